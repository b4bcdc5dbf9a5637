"""Identifiers refuse invisible and look-alike characters (issue 21): a zero-width space
in a task id used to make a second task that looks like the first in every list."""

from __future__ import annotations

import re

import pytest

from geo.ingest.tasks import import_tasks
from geo.text import IdentifierError, identifier
from tests.import_fixtures import scalar, table_versions, write_xlsx

HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Hạn hoàn thành"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("NQ57-96-0001\u200b", "U+200B"),  # zero-width space
        ("NQ57\u200d-96", "U+200D"),  # zero-width joiner
        ("\ufeffNQ57-96", "U+FEFF"),  # BOM
        ("NQ57-96\u202e1000", "U+202E"),  # right-to-left override
        ("NQ57\u00ad-96", "U+00AD"),  # soft hyphen
        ("NQ57\u2060-96", "U+2060"),  # word joiner
        ("NQ57-96\u3164", "U+1160"),  # Hangul filler: NFKC makes it U+1160, as blank
        ("NQ57-96\ufe0f", "U+FE0F"),  # variation selector
        ("N\u0051\u0035\u0037-\u0421M", "U+0421"),  # Cyrillic С
        ("NQ57-96-\u03bf01", "U+03BF"),  # Greek ο
    ],
)
def test_invisible_and_look_alike_characters_are_named(text: str, named: str) -> None:
    with pytest.raises(IdentifierError, match=re.escape(named)):
        identifier(text)


def test_compatibility_forms_fold_and_vietnamese_stays() -> None:
    assert identifier("ＮＱ５７-９６") == "NQ57-96"  # full-width, as some IMEs type
    assert identifier("HN-Đ-Ứng-1") == "HN-Đ-Ứng-1"


def test_a_task_id_with_a_zero_width_space_is_a_row_error(scratch, tmp_path) -> None:
    path = write_xlsx(
        tmp_path / "nv.xlsx",
        HEADER,
        [
            ["NQ57-96-0001\u200b", "Bản sao trông giống", "96", None, "31/12/2025"],
            ["T-OK", "Việc", "96", None, "31/12/2025"],
        ],
    )
    before = table_versions(scratch)
    report = import_tasks(scratch, path, actor="cli:t")
    assert report.status == "rejected"
    [problem] = report.errors
    assert (problem.row, problem.field) == (2, "Mã nhiệm vụ")
    assert "U+200B" in problem.reason and "ZERO WIDTH SPACE" in problem.reason
    assert table_versions(scratch) == before
    assert scalar(scratch, "select count(*) from task where external_id like '%\u200b%'") == 0
