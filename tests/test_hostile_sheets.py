"""Hostile sheets (issue 12): each generated file gets a 4xx naming the limit or the reason
(or imports, where it is legitimate), the parser's memory stays bounded (measured in a
child process under a 1 GiB address-space cap) and no stored row changes.

The files come from tests/hostile_files.py (a few KB each on disk, except the 160 KB zip
bomb and the 400 KB row bomb); ``python -m tests.hostile_files DIR`` prints the numbers.
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.ingest.report import InjectedFailure
from geo.ingest.sheet_files import sniff_delimiter
from geo.ingest.tasks import import_tasks
from geo.tokens import create_token
from tests import hostile_files as hostile
from tests.import_fixtures import rows, table_versions, write_csv, write_xlsx

TOKEN = "hostile-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Hạn hoàn thành"]
PEAK_MB = 300  # the reader's own budget; the cap on the child is 1 GiB

# case → (what read_sheet raises, the limit it names or a phrase of its message)
REFUSED = {
    "dimension_bomb": ("LimitExceeded", "max_rows"),
    "wide_row": ("LimitExceeded", "max_columns"),
    "billion_laughs_sheet": ("BadInput", "declares a DTD"),
    "billion_laughs_workbook": ("BadInput", "declares a DTD"),
    "xxe_sheet": ("BadInput", "declares a DTD"),
    "zip_bomb": ("LimitExceeded", "max_unzipped_bytes"),
    "many_sheets": ("LimitExceeded", "max_sheets"),
    "sniffer_bomb": ("LimitExceeded", "max_columns"),
    "long_line": ("LimitExceeded", "max_line_chars"),
    "many_rows": ("LimitExceeded", "max_rows"),
}


def client_for(url: str, **settings) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, admin_token=TOKEN, **settings)))


def upload(path, mime=XLSX, name=None):
    return {"file": (name or path.name, path.read_bytes(), mime)}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_reader_refuses_each_hostile_file_within_bounded_memory(tmp_path, case):
    build, name = hostile.CASES[case]
    outcome, expected = REFUSED[case]
    result = hostile.parse_in_subprocess(build(tmp_path / name))
    assert result["outcome"] == outcome, result
    assert expected in (result.get("limit") or result["message"]), result
    assert name in result["message"]  # the file is named, never a server path
    assert str(tmp_path) not in result["message"]
    assert result["peak_mb"] < PEAK_MB, result


def test_a_sheet_whose_dimension_lies_reads_normally(tmp_path):
    result = hostile.parse_in_subprocess(hostile.bogus_dimension(tmp_path / "dim.xlsx"))
    assert (result["outcome"], result["rows"]) == ("read", 1), result
    assert result["peak_mb"] < PEAK_MB


def test_delimiters_are_found_without_regexes():
    assert sniff_delimiter("Mã nhiệm vụ;Tên\nA;B\n") == ";"
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter('a,b\n"x;y",2\n') == ","  # a ; inside quotes does not count
    assert sniff_delimiter("only one column\n") == ","


@pytest.fixture
def api(scratch_url):
    with client_for(scratch_url, import_lock_timeout_s=0.5) as c:
        yield c


def test_hostile_uploads_are_4xx_naming_the_limit_and_change_nothing(api, scratch, tmp_path):
    before = table_versions(scratch)
    for case in sorted(REFUSED):
        build, name = hostile.CASES[case]
        path = build(tmp_path / name)
        mime = "text/csv" if name.endswith(".csv") else XLSX
        for kind in ("tasks", "indicators"):
            r = api.post(f"/api/v1/imports/{kind}", files=upload(path, mime), headers=AUTH)
            outcome, expected = REFUSED[case]
            assert r.status_code == (413 if outcome == "LimitExceeded" else 422), (case, r.text)
            body = r.json()
            assert name in body["detail"] and expected in r.text, (case, body)
            assert "iocmap-upload-" not in r.text  # no server temp path in the body
            if outcome == "LimitExceeded":
                assert body["errors"][0]["limit"] == expected
    assert table_versions(scratch) == before


def test_sheet_uploads_have_their_own_cap(scratch_url, tmp_path):
    path = hostile.long_line(tmp_path / "big.csv", chars=50_000)
    with client_for(scratch_url, import_sheet_max_bytes=10_000) as c:
        r = c.post("/api/v1/imports/tasks", files=upload(path, "text/csv"), headers=AUTH)
    assert r.status_code == 413 and "10,000-byte limit" in r.json()["detail"]


def test_control_characters_in_cells_and_file_names_are_cleaned(api, scratch, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        HEADER,
        [["CTRL-1", "Nhiệm\x00 vụ\x1b có ký tự lạ", "96", "", "31/12/2025"]],
    )
    # a raw multipart body: httpx would percent-escape the control characters
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + "báo\x07cáo\x1b.csv".encode()
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + path.read_bytes()
        + b"\r\n--B--\r\n"
    )
    headers = AUTH | {"Content-Type": "multipart/form-data; boundary=B"}
    r = api.post("/api/v1/imports/tasks", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["file"] == "báo cáo .csv"
    [stored] = rows(
        scratch,
        "select t.title, e.source from task t join task_event e on e.task_id = t.id"
        " where t.external_id = 'CTRL-1'",
    )
    assert stored.title == "Nhiệm vụ có ký tự lạ"
    assert stored.source == "báo cáo .csv"
    assert rows(scratch, "select source from data_state")[0].source == "tasks: báo cáo .csv"
    # XML cannot carry a NUL at all: such an XLSX is unreadable (422), not a 500
    broken = hostile.with_parts(
        tmp_path / "nul.xlsx",
        {hostile.SHEET_PART: hostile._sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>'
                                            'a\x00b</t></is></c></row>')},
    )  # fmt: skip
    r = api.post("/api/v1/imports/tasks", files=upload(broken), headers=AUTH)
    assert r.status_code == 422 and "nul.xlsx" in r.json()["detail"]


def test_codes_fold_full_width_digits_and_refuse_look_alikes(api, scratch, tmp_path):
    good = write_xlsx(
        tmp_path / "fw.xlsx", HEADER, [["FW-1", "Toàn khổ", "０１", "０００７０", "31/12/2025"]]
    )
    r = api.post("/api/v1/imports/tasks", files=upload(good), headers=AUTH)
    assert r.status_code == 200, r.text
    assert rows(scratch, "select unit_code from task where external_id = 'FW-1'")[0][0] == "00070"
    before = table_versions(scratch)
    bad = write_csv(
        tmp_path / "ar.csv",
        HEADER,
        [["AR-1", "Chữ số Ả Rập", "01", "٠٠٠٧٠", "31/12/2025"],
         ["NUL-1", "Mã có NUL", "01", "000\x0070", "31/12/2025"],
         ["UNK-1", "Mã lạ", "01", "99999", "31/12/2025"]],
    )  # fmt: skip
    r = api.post(
        "/api/v1/imports/tasks",
        files=upload(bad, "text/csv"),
        headers=AUTH | {"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert r.status_code == 422
    found = {(e["row"], e["field"]): e["reason"] for e in r.json()["errors"]}
    assert "not a code (digits 0-9 only)" in found[(2, "Mã xã")]
    assert "not a code" in found[(3, "Mã xã")]
    assert "unknown commune code '99999'" in found[(4, "Mã xã")]
    assert table_versions(scratch) == before


def test_a_scoped_editor_is_refused_before_parsing_and_before_validation(api, scratch, tmp_path):
    with scratch.begin() as conn:
        _, token = create_token(conn, "ca-mau", "editor", "province:96")
    editor = {"Authorization": f"Bearer {token}"}
    before = table_versions(scratch)
    # a kind it may not import: 403 even for a file that would be a 413
    bomb = hostile.dimension_bomb(tmp_path / "bomb.xlsx")
    r = api.post("/api/v1/imports/indicators", files=upload(bomb), headers=editor)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    # another province's rows, with a broken date too: a short 403, not a 422 report
    path = write_xlsx(tmp_path / "na.xlsx", HEADER, [["NA-X", "Nghệ An", "40", None, "32/13/2025"]])
    r = api.post("/api/v1/imports/tasks", files=upload(path), headers=editor)
    assert r.status_code == 403, r.text
    assert "40" in r.json()["detail"] and "report" not in r.json()
    assert table_versions(scratch) == before


def test_a_busy_lock_is_a_quick_409_naming_the_import_that_holds_it(api, scratch, tmp_path):
    holding, release = threading.Event(), threading.Event()

    def hold(point: str) -> None:
        if point == "staged":
            holding.set()
            assert release.wait(60), "the test never released the lock"

    first = write_csv(
        tmp_path / "dang_chay.csv", HEADER, [["LOCK-1", "Một", "96", "", "31/12/2025"]]
    )
    result: dict = {}
    worker = threading.Thread(
        target=lambda: result.update(
            r=import_tasks(scratch, first, actor="cli:holder", dry_run=True, hook=hold)
        )
    )
    worker.start()
    try:
        assert holding.wait(60), "the first import never reached its hook point"
        second = write_xlsx(
            tmp_path / "sau.xlsx", HEADER, [["LOCK-2", "Hai", "96", None, "31/12/2025"]]
        )
        r = api.post("/api/v1/imports/tasks", files=upload(second), headers=AUTH)
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert "iocmap tasks dry run by cli:holder: dang_chay.csv" in detail
        assert "waited 0.5 s" in detail
    finally:
        release.set()
        worker.join(60)
    assert result["r"].status == "dry_run"
    r = api.post("/api/v1/imports/tasks", files=upload(second), headers=AUTH)
    assert r.status_code == 200, r.text


def test_every_import_records_its_actor(api, scratch, tmp_path):
    # the demo's own reporting record (one run per unit) comes before this test's imports
    demo = rows(scratch, "select coalesce(max(id), 0) as n from import_run")[0].n
    tasks = write_xlsx(tmp_path / "nv.xlsx", HEADER, [["ACT-1", "Ai", "96", None, "31/12/2025"]])
    assert api.post("/api/v1/imports/tasks", files=upload(tasks), headers=AUTH).status_code == 200
    values = write_csv(
        tmp_path / "chi_so.csv",
        ["Mã tỉnh", "Chỉ số", "Kỳ", "Giá trị"],
        [["96", "dti", "2030-Q1", "0,5"]],
    )
    r = api.post("/api/v1/imports/indicators", files=upload(values, "text/csv"), headers=AUTH)
    assert r.status_code == 200, r.text
    import_tasks(scratch, tasks, actor="cli:someone")  # no changes: recorded all the same
    got = rows(
        scratch,
        "select kind, file, actor, created, updated from import_run where id > :n order by id",
        n=demo,
    )
    assert [tuple(g) for g in got] == [
        # the bootstrap token has no row the database could check: marked unverified
        ("tasks", "nv.xlsx", "unverified:token:admin", 1, 0),
        ("indicators", "chi_so.csv", "unverified:token:admin", 1, 0),
        ("tasks", "nv.xlsx", "cli:someone", 0, 0),
    ]
    # a dry run is recorded as one (GET /api/v1/imports lists it); a failed import leaves
    # no trace
    import_tasks(scratch, tasks, dry_run=True)
    with pytest.raises(InjectedFailure):
        import_tasks(scratch, tasks, hook="staged")
    got = rows(
        scratch,
        "select outcome, dry_run, version from import_run where id > :n order by id",
        n=demo,
    )
    assert [tuple(g)[:2] for g in got] == [
        ("imported", False),
        ("imported", False),
        ("no_changes", False),
        ("dry_run", True),
    ]
    assert got[-1][2] is None
