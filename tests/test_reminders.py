"""Reminder notices: `iocmap remind` and POST /api/v1/reminders write DOCX notices that
python-docx reads back with the right tasks; repeats are marked; every notice is in the
append-only audit trail; a scoped editor cannot remind another province."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.tokens import create_token
from iocmap.cli import app
from tests.import_fixtures import rows, scalar

OVERDUE_NQ57 = (
    "select unit_code, external_id from task where program = 'NQ57' and unit_code is not null"
    " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
)


def _expected(engine) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows(engine, OVERDUE_NQ57):
        out.setdefault(r.unit_code, set()).add(r.external_id)
    return out


def _table(doc: Document) -> list[dict]:
    table = doc.tables[0]
    head = [c.text for c in table.rows[0].cells]
    return [dict(zip(head, (c.text for c in row.cells), strict=True)) for row in table.rows[1:]]


def _notices(folder: Path) -> dict[str, Document]:
    return {p.name.split("_")[1]: Document(str(p)) for p in sorted(folder.glob("*.docx"))}


def test_cli_writes_a_docx_per_unit_and_a_second_run_marks_repeats(
    scratch, scratch_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    expected = _expected(scratch)
    assert len(expected) >= 2
    first = tmp_path / "first"
    res = CliRunner().invoke(
        app, ["remind", "--program", "NQ57", "--overdue", "--out", str(first), "--actor", "cli:t"]
    )
    assert res.exit_code == 0, res.output
    docs = _notices(first)
    assert set(docs) == set(expected)
    for code, doc in docs.items():
        table = _table(doc)
        assert {r["Mã nhiệm vụ"] for r in table} == expected[code]
        assert all(r["Lần nhắc"] == "Lần đầu" for r in table)
        assert all(int(r["Số ngày quá hạn"]) > 0 for r in table)
        text_all = "\n".join(p.text for p in doc.paragraphs)
        assert "PHIẾU NHẮC VIỆC" in text_all and "Kính gửi: Ủy ban nhân dân" in text_all
        assert "Hạn báo cáo: 20/11/2025" in text_all  # reporting date + 7 days
        section = doc.sections[0]
        assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
        assert (first / f"{doc_stem(first, code)}.html").read_text(encoding="utf-8").count(
            "<tr>"
        ) == len(table) + 1
    assert scalar(scratch, "select count(*) from reminder") == len(expected)

    second = tmp_path / "second"
    res = CliRunner().invoke(
        app, ["remind", "--program", "NQ57", "--overdue", "--out", str(second)]
    )
    assert res.exit_code == 0, res.output
    for doc in _notices(second).values():
        assert all(r["Lần nhắc"] == "Nhắc lần 2" for r in _table(doc))
        assert "(nhắc lần 2)" in doc.paragraphs[2].text
    trail = rows(scratch, "select unit_code, actor, tasks from reminder order by id")
    assert len(trail) == 2 * len(expected)
    assert trail[0].actor == "cli:t"
    assert {t["round"] for r in trail[len(expected) :] for t in r.tasks} == {2}
    with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
        conn.execute(text("update reminder set reply_by = date '2030-01-01'"))
    with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
        conn.execute(text("delete from reminder"))


def doc_stem(folder: Path, code: str) -> str:
    return next(folder.glob(f"nhac-viec_{code}_*.docx")).stem


def test_api_scoped_editor_reminds_its_province_only_and_the_list_shows_responses(
    scratch, scratch_url
):
    expected = _expected(scratch)
    mine, other = sorted(expected)[:2]
    with scratch.begin() as conn:
        _, token = create_token(conn, "so-khcn", "editor", f"province:{mine}")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        assert client.post("/api/v1/reminders").status_code == 401
        refused = client.post("/api/v1/reminders", params={"province": other}, headers=auth)
        assert refused.status_code == 403, refused.text
        assert scalar(scratch, "select count(*) from reminder") == 0  # nothing recorded

        r = client.post("/api/v1/reminders", params={"reply_by": "2025-11-30"}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        doc = Document(io.BytesIO(r.content))
        assert {row["Mã nhiệm vụ"] for row in _table(doc)} == expected[mine]
        assert "Hạn báo cáo: 30/11/2025" in "\n".join(p.text for p in doc.paragraphs)

        # reading needs a token and is scoped like writing (issue 21)
        assert client.get("/api/v1/reminders").status_code == 401
        listed = client.get("/api/v1/reminders", params={"unit": mine}, headers=auth).json()
        assert listed["numberMatched"] == 1
        notice = listed["reminders"][0]
        assert notice["actor"] is None, "token names are an admin's to read"
        assert notice["reply_by"] == "2025-11-30"
        assert notice["responded"] is False
        assert notice["still_overdue"] == len(expected[mine])
        assert {t["status_now"] for t in notice["tasks"]} == {"overdue"}
        # the unit finishes every reminded task: the list shows it responded
        with scratch.begin() as conn:
            conn.execute(
                text(
                    "update task set completed_at = date '2025-11-12' where external_id = any(:e)"
                ),
                {"e": sorted(expected[mine])},
            )
            conn.execute(text("update data_state set version = version + 1"))
        notice = client.get("/api/v1/reminders", params={"unit": mine}, headers=auth).json()[
            "reminders"
        ][0]
        assert notice["responded"] is True and notice["still_overdue"] == 0

        # an admin reminding every unit below 60 % gets a ZIP of DOCX + HTML
        with scratch.begin() as conn:
            _, admin = create_token(conn, "central", "admin", None)
        z = client.post(
            "/api/v1/reminders",
            params={"overdue": "false", "below": 60},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
        assert len(names) >= 4 and {n.rsplit(".", 1)[1] for n in names} == {"docx", "html"}
        as_admin = {"Authorization": f"Bearer {admin}"}
        every = client.get("/api/v1/reminders", headers=as_admin).json()
        mine_seen = client.get("/api/v1/reminders", headers=auth).json()
        assert every["numberMatched"] > mine_seen["numberMatched"] == 1
        assert {n["unit_code"] for n in mine_seen["reminders"]} == {mine}
        assert (
            client.get("/api/v1/reminders", params={"unit": other}, headers=auth).json()[
                "numberMatched"
            ]
            == 0
        )
        first = client.get("/api/v1/reminders", params={"unit": mine}, headers=as_admin).json()
        assert first["reminders"][-1]["actor"] == "token:so-khcn"  # stamped by the database
