"""Notices delivered and silence escalated (issue 27, items 3 and 5), against real servers on
loopback: an SMTP server (aiosmtpd) receives the notice with its DOCX and a Vietnamese
subject; a mail server that is down delays deliveries, then each arrives exactly once while
the API answers as fast as before; a webhook receiver gets correctly signed JSON and can tell
a wrong secret; a holder silent past its reply-by date gets the next round with its leader
in copy (time moved with ``iocmap worker --once --today``, not slept); a worker without SMTP
leaves e-mail deliveries queued."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from deploy.topology import free_port
from geo.remind.issue import RemindRequest, issue
from geo.remind.message import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from geo.tokens import create_token
from iocmap.cli import app
from tests.import_fixtures import rows, scalar

REPLY_BY = dt.date(2025, 11, 20)
WORKER = str(Path(sys.executable).with_name("iocmap"))


class Inbox:
    """An aiosmtpd handler keeping every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.rcpts: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 OK"


def _smtp(port: int, inbox: Inbox) -> Controller:
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl


def _contacts(engine, code: str, leader: bool = True) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into unit_contact (unit_code, role, name, email, is_leader, position)"
                " values (:c, 'Văn phòng', 'Nguyễn Văn Á', :e1, false, 0),"
                " (:c, 'Chánh Văn phòng', 'Trần Thị Bích', :e2, false, 1)"
            ),
            {"c": code, "e1": f"vp-{code}@example.vn", "e2": f"cvp-{code}@example.vn"},
        )
        if leader:
            conn.execute(
                text(
                    "insert into unit_contact (unit_code, role, name, email, is_leader, position)"
                    " values (:c, 'Ủy viên Ban Thường vụ', 'Lê Văn Lãnh Đạo', :e, true, 2)"
                ),
                {"c": code, "e": f"ld-{code}@example.vn"},
            )


def _overdue_provinces(engine, n: int) -> list[str]:
    return [
        r.unit_code
        for r in rows(
            engine,
            "select distinct unit_code from task where program = 'NQ57' and unit_code is not"
            " null and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
            f" order by unit_code limit {n}",
        )
    ]


def _issue(engine, code: str) -> int:
    notices = issue(
        engine,
        RemindRequest(program="NQ57", overdue=True, province=code, reply_by=REPLY_BY, force=True),
        "test",
    )
    assert len(notices) == 1 and notices[0].reminder_id
    return notices[0].reminder_id


def _worker_env(monkeypatch, scratch_url: str, **env: str) -> None:
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    for key in ("SMTP_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(f"IOCMAP_{key}", raising=False)
    monkeypatch.setenv("IOCMAP_ESCALATE_AT", "")
    for key, value in env.items():
        monkeypatch.setenv(f"IOCMAP_{key}", value)


def _once(*args: str) -> dict:
    res = CliRunner().invoke(app, ["worker", "--once", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.output.strip().splitlines()[-1])


def _subject(msg) -> str:
    return str(msg["Subject"])  # policy.default decodes RFC 2047 words


def _docx_text(msg) -> str:
    (part,) = [p for p in msg.iter_attachments() if p.get_filename().endswith(".docx")]
    doc = Document(io.BytesIO(part.get_content()))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_issuing_queues_and_the_worker_mails_the_docx_in_vietnamese(
    scratch, scratch_url, monkeypatch
):
    """Issued over the API: one queued delivery per channel in the issuing transaction; a
    worker without SMTP leaves them queued; one with SMTP sends one message to the holder's
    contacts with a Vietnamese subject, the reply-by date in words, the task list and the
    DOCX attached, and records its Message-ID; the webhook delivery stays queued."""
    (code,) = _overdue_provinces(scratch, 1)
    _contacts(scratch, code)
    with scratch.begin() as conn:
        _, token = create_token(conn, "so-a", "editor", f"province:{code}")
        _, other = create_token(
            conn, "so-b", "editor", f"province:{_overdue_provinces(scratch, 2)[1]}"
        )
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        r = client.post(
            "/api/v1/reminders",
            params={"overdue": "true", "confirm": "true", "reply_by": REPLY_BY.isoformat()},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        (notice,) = r.json()["notices"]
        rid = notice["id"]
        got = client.get(f"/api/v1/reminders/{rid}/deliveries", headers=auth)
        assert got.status_code == 200, got.text
        assert {(d["channel"], d["status"]) for d in got.json()["deliveries"]} == {
            ("email", "queued"), ("webhook", "queued")}  # fmt: skip
        denied = client.get(
            f"/api/v1/reminders/{rid}/deliveries", headers={"Authorization": f"Bearer {other}"}
        )
        assert denied.status_code == 403, denied.text
        assert client.get(f"/api/v1/reminders/{rid}/deliveries").status_code == 401

    _worker_env(monkeypatch, scratch_url)  # no channel configured: nothing leaves
    assert _once()["deliveries"] == []
    assert {r.status for r in rows(scratch, "select status from delivery")} == {"queued"}

    inbox, port = Inbox(), free_port()
    ctl = _smtp(port, inbox)
    try:
        _worker_env(monkeypatch, scratch_url, SMTP_URL=f"smtp://127.0.0.1:{port}",
                    MAIL_FROM="ban-chi-dao@iocmap.example")  # fmt: skip
        out = _once()
    finally:
        ctl.stop()
    assert [d["status"] for d in out["deliveries"]] == ["sent"], out
    (msg,) = inbox.messages
    subject = _subject(msg)
    assert subject.startswith(f"Công văn số {notice['doc_number']}") and "đôn đốc" in subject
    assert "hạn báo cáo 20/11/2025" in subject
    assert sorted(inbox.rcpts[0]) == sorted([f"vp-{code}@example.vn", f"cvp-{code}@example.vn"])
    assert "Cc" not in msg  # the leader is copied on escalations only
    body = msg.get_body(("plain",)).get_content()
    assert "Hạn báo cáo: ngày 20 tháng 11 năm 2025." in body
    assert notice["tasks"][0]["external_id"] in body
    assert f"Kính gửi: {notice['recipient']}." in _docx_text(msg)
    row = rows(scratch, "select * from delivery where channel = 'email'")[0]
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert row.message_id == msg["Message-ID"] and row.message_id.endswith("@iocmap.example>")
    assert scalar(scratch, "select status from delivery where channel = 'webhook'") == "queued"
    _once()  # a second run sends nothing again
    assert len(inbox.messages) == 1


def test_a_mail_server_down_delays_then_each_notice_arrives_exactly_once(
    scratch, scratch_url, monkeypatch
):
    """Two workers run as their own processes; the mail server is stopped for a minute while
    notices are issued: deliveries fail with the reason and are retried with backoff, the
    reminders API, the pages and a sheet import answer as fast as before, and after the
    server returns every notice arrives once."""
    codes = _overdue_provinces(scratch, 4)
    assert len(codes) == 4
    for code in codes:
        _contacts(scratch, code, leader=False)
    inbox, port = Inbox(), free_port()
    ctl = _smtp(port, inbox)
    ctl.stop()  # the mail server goes down
    down_at = time.monotonic()
    sheet = (
        "Mã nhiệm vụ,Tên nhiệm vụ,Mã tỉnh,Hạn hoàn thành\n"
        f"OUTAGE-1,Nhiệm vụ thử khi máy chủ thư ngừng,{codes[0]},31/12/2026\n"
    ).encode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_")} | {
        "IOCMAP_DATABASE_URL": scratch_url,
        "IOCMAP_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "IOCMAP_DELIVERY_BACKOFF_SECONDS": "0.5",
        "IOCMAP_DELIVERY_MAX_ATTEMPTS": "30",
        "IOCMAP_DELIVERY_TIMEOUT_SECONDS": "3",
        "IOCMAP_WORKER_POLL_SECONDS": "0.2",
        "IOCMAP_ESCALATE_AT": "",
    }
    with scratch.begin() as conn:
        _, token = create_token(conn, "admin-t", "admin", None)
    auth = {"Authorization": f"Bearer {token}"}
    # two workers on the same queue: SKIP LOCKED gives each delivery to one of them
    workers = [subprocess.Popen([WORKER, "worker"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
               for _ in range(2)]  # fmt: skip
    try:
        with TestClient(create_app(Settings(database_url=scratch_url))) as client:

            def timed_list() -> float:
                t0 = time.perf_counter()
                r = client.get("/api/v1/reminders", params={"limit": 100}, headers=auth)
                assert r.status_code == 200, r.text
                d = client.get("/api/v1/deliveries", params={"status": "failed"}, headers=auth)
                assert d.status_code == 200, d.text
                page = client.get("/reminders")
                assert page.status_code == 200, page.text
                imported = client.post(
                    "/api/v1/imports/tasks", params={"dry_run": "true"}, headers=auth,
                    files={"file": ("nhiem_vu.csv", sheet, "text/csv")},
                )  # fmt: skip
                assert imported.status_code == 200, imported.text
                return time.perf_counter() - t0

            timed_list()  # warm: the first call opens connections
            before = min(timed_list() for _ in range(3))
            ids = [_issue(scratch, code) for code in codes]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                failed = rows(scratch, "select * from delivery where channel = 'email'"
                              " and status = 'failed' and attempts >= 2")  # fmt: skip
                if len(failed) == len(ids):
                    break
                time.sleep(0.2)
            assert len(failed) == len(ids), "every delivery was tried and failed"
            assert all("Connect" in (f.last_error or "") or "refused" in (f.last_error or "")
                       for f in failed), [f.last_error for f in failed]  # fmt: skip
            timings = []
            while time.monotonic() < down_at + 60:  # down for a minute, read throughout
                timings.append(timed_list())
                time.sleep(1.0)
            during = min(timings)
            print(f"reads and a dry-run import: before {before * 1000:.0f} ms, with the mail"
                  f" server down {during * 1000:.0f} ms (best of {len(timings)}), worst"
                  f" {max(timings) * 1000:.0f} ms")  # fmt: skip
            assert during < max(1.0, 3 * before), (before, during)
            listed = client.get(
                "/api/v1/deliveries", params={"status": "failed"}, headers=auth
            ).json()
            assert listed["numberMatched"] == len(ids)

            ctl = _smtp(port, inbox)  # the mail server returns
            try:
                deadline = time.monotonic() + 40
                while time.monotonic() < deadline:
                    if scalar(scratch, "select count(*) from delivery where channel = 'email'"
                              " and status = 'sent'") == len(ids):  # fmt: skip
                        break
                    time.sleep(0.2)
                time.sleep(1.5)  # a duplicate would arrive now
            finally:
                ctl.stop()
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
    sent = rows(scratch, "select message_id from delivery where channel = 'email'"
                " and status = 'sent'")  # fmt: skip
    assert len(sent) == len(ids)
    got = sorted(m["Message-ID"] for m in inbox.messages)
    assert got == sorted(r.message_id for r in sent), "each notice once, none twice"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


def test_a_webhook_receiver_gets_signed_json_and_a_wrong_secret_shows(
    scratch, scratch_url, monkeypatch
):
    codes = _overdue_provinces(scratch, 2)
    ids = [_issue(scratch, code) for code in codes]
    _Receiver.got = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    secret = "bí-mật-chung-7f3a"
    try:
        _worker_env(monkeypatch, scratch_url, WEBHOOK_URL=f"http://127.0.0.1:"
                    f"{httpd.server_address[1]}/hook", WEBHOOK_SECRET=secret)  # fmt: skip
        out = _once()
    finally:
        httpd.shutdown()
    assert sorted(d["status"] for d in out["deliveries"]) == ["sent", "sent"]
    assert len(_Receiver.got) == len(ids)
    seen = set()
    for headers, body in _Receiver.got:
        assert verify_signature(secret, headers, body)
        assert not verify_signature("sai-bí-mật", headers, body)  # a wrong secret shows
        assert not verify_signature(secret, headers, body.replace(b"NQ57", b"NQ58"))
        stale = headers | {TIMESTAMP_HEADER: str(int(time.time()) - 3600)}
        assert not verify_signature(secret, stale, body)  # a replay an hour later
        assert headers[SIGNATURE_HEADER].startswith("sha256=")
        payload = json.loads(body)
        assert payload["event"] == "notice.issued" and payload["tasks"]
        assert payload["reply_by_text"] == "ngày 20 tháng 11 năm 2025"
        seen.add(payload["reminder_id"])
    assert seen == set(ids)
    # the e-mail deliveries stayed queued for a worker that has SMTP
    assert scalar(scratch, "select count(*) from delivery where channel = 'email'"
                  " and status = 'queued'") == len(ids)  # fmt: skip


def test_silence_escalates_with_the_leader_in_copy(scratch, scratch_url, monkeypatch):
    """Two holders reminded; one answers. Moved past the reply-by date, the worker issues the
    next round to the silent one only (actor "tự động", marked, leader copied), mails it with
    the leader in Cc, and does not escalate twice the same day."""
    answered, silent = _overdue_provinces(scratch, 2)
    for code in (answered, silent):
        _contacts(scratch, code)
    first = {code: _issue(scratch, code) for code in (answered, silent)}
    with scratch.begin() as conn:
        conn.execute(
            text("insert into reminder_answer (reminder_id, answers) values (:r, '[]')"),
            {"r": first[answered]},
        )
    inbox, port = Inbox(), free_port()
    ctl = _smtp(port, inbox)
    try:
        _worker_env(monkeypatch, scratch_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
        same_day = _once("--today", REPLY_BY.isoformat())  # not past reply-by yet
        assert same_day["escalation"]["escalated"] == []
        inbox.messages.clear()
        inbox.rcpts.clear()
        out = _once("--today", (REPLY_BY + dt.timedelta(days=1)).isoformat())
        again = _once("--today", (REPLY_BY + dt.timedelta(days=1)).isoformat())
    finally:
        ctl.stop()
    (esc,) = out["escalation"]["escalated"]
    assert esc["code"] == silent and esc["round"] == 2
    assert again["escalation"]["ran"] is False
    new = rows(scratch, f"select * from reminder where id = {esc['reminder_id']}")[0]
    assert new.actor == "cli:tự động" and new.escalated and "Lê Văn Lãnh Đạo" in new.leader
    assert new.reply_by == REPLY_BY + dt.timedelta(days=8)
    assert scalar(scratch, f"select count(*) from reminder where unit_code = '{answered}'") == 1
    (msg,) = inbox.messages
    assert "Nhắc lần 2 — báo cáo lãnh đạo phụ trách" in _subject(msg)
    assert f"ld-{silent}@example.vn" in msg["Cc"]
    assert f"ld-{silent}@example.vn" in inbox.rcpts[0]
    docx = _docx_text(msg)
    assert "nhắc lần 2 — báo cáo lãnh đạo phụ trách" in docx
    assert "Đồng chí Lê Văn Lãnh Đạo" in docx


def test_dead_letters_listed_and_an_admin_retries_them(scratch, scratch_url, monkeypatch):
    (code,) = _overdue_provinces(scratch, 1)  # no contacts: the e-mail cannot go anywhere
    rid = _issue(scratch, code)
    _worker_env(monkeypatch, scratch_url, SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
                DELIVERY_MAX_ATTEMPTS="1")  # fmt: skip
    (out,) = _once()["deliveries"]
    assert out["status"] == "dead"
    with scratch.begin() as conn:
        _, admin = create_token(conn, "adm", "admin", None)
        _, editor = create_token(conn, "ed", "editor", f"province:{code}")
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        dead = client.get("/api/v1/deliveries", params={"status": "dead"},
                          headers={"Authorization": f"Bearer {editor}"}).json()  # fmt: skip
        (row,) = dead["deliveries"]
        assert row["reminder_id"] == rid and "e-mail" in row["last_error"]
        r = client.post(f"/api/v1/deliveries/{row['id']}/retry",
                        headers={"Authorization": f"Bearer {editor}"})  # fmt: skip
        assert r.status_code == 403, r.text
        r = client.post(f"/api/v1/deliveries/{row['id']}/retry",
                        headers={"Authorization": f"Bearer {admin}"})  # fmt: skip
        assert r.status_code == 200 and r.json()["status"] == "queued", r.text
        again = client.post(f"/api/v1/deliveries/{row['id']}/retry",
                            headers={"Authorization": f"Bearer {admin}"})  # fmt: skip
        assert again.status_code == 409, again.text
        bad = client.get("/api/v1/deliveries", params={"status": "lost"},
                         headers={"Authorization": f"Bearer {admin}"})  # fmt: skip
        assert bad.status_code in (400, 422) and "status" in bad.text


@pytest.mark.parametrize("url", ["http://x", "smtp://", "ftp://host"])
def test_a_bad_smtp_url_is_a_clear_error(url):
    from geo.errors import BadInput
    from geo.remind.deliver import smtp_options

    with pytest.raises(BadInput, match="IOCMAP_SMTP_URL"):
        smtp_options(url)


def test_the_wall_and_the_report_list_silent_units(scratch, scratch_url):
    """A holder whose notice is unanswered past its reply-by date and still overdue is on
    the wall's alert rail and in the leaders' report; one that answered is not."""
    from geo.read.report import parse_period, report_data

    silent, answered = _overdue_provinces(scratch, 2)
    _issue(scratch, silent)
    rid = _issue(scratch, answered)
    with scratch.begin() as conn:
        conn.execute(
            text("insert into reminder_answer (reminder_id, answers) values (:r, '[]')"),
            {"r": rid},
        )
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        page = client.get("/wall")
        assert page.status_code == 200, page.text
    rail = page.text.split('id="wall-silent"', 1)[1].split("</ul>", 1)[0]
    assert f'data-code="{silent}"' in rail and f'data-code="{answered}"' not in rail
    assert "Không báo cáo, quá hạn trả lời" in page.text
    with scratch.connect() as conn:
        data = report_data(conn, parse_period("2025-Q4"), dt.date(2025, 12, 31))
    assert [h["code"] for h in data["silent"]] == [silent]


def test_an_escalation_cannot_be_forged_through_a_preview_id():
    from geo.errors import BadInput

    blob = RemindRequest(overdue=True, escalate=True).encode()
    with pytest.raises(BadInput, match="preview"):
        RemindRequest.decode(blob)


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_starttls_and_tls_with_a_login(scheme, scratch, scratch_url, monkeypatch, tmp_path):
    """STARTTLS (587) and implicit TLS (465) with user:pass from the URL, the server's
    certificate verified against IOCMAP_SMTP_CA_FILE; a wrong password is a failed attempt."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def login(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"bcd" and auth_data.password == "mật-khẩu".encode()
        return AuthResult(success=ok)

    (code,) = _overdue_provinces(scratch, 1)
    _contacts(scratch, code, leader=False)
    _issue(scratch, code)
    inbox, port = Inbox(), free_port()
    tls = (
        {"ssl_context": ctx}
        if scheme == "smtps"
        else {"tls_context": ctx, "require_starttls": True}
    )
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=login,
                     auth_require_tls=scheme != "smtps", **tls)  # fmt: skip
    # (aiosmtpd does not count implicit TLS as TLS for AUTH: the whole session is TLS anyway)
    ctl.start()
    try:
        wrong = f"{scheme}://bcd:sai@127.0.0.1:{port}"
        _worker_env(monkeypatch, scratch_url, SMTP_URL=wrong, DELIVERY_TIMEOUT_SECONDS="2",
                    SMTP_CA_FILE=str(tmp_path / "cert.pem"))  # fmt: skip
        (failed,) = _once()["deliveries"]
        # aiosmtpd answers 535, then leaves aiosmtplib's next mechanism unanswered: a timeout
        assert failed["status"] == "failed" and failed["error"], failed
        with scratch.begin() as conn:
            conn.execute(text("update delivery set next_attempt_at = now()"))
        right = f"{scheme}://bcd:m%E1%BA%ADt-kh%E1%BA%A9u@127.0.0.1:{port}"
        _worker_env(monkeypatch, scratch_url, SMTP_URL=right,
                    SMTP_CA_FILE=str(tmp_path / "cert.pem"))  # fmt: skip
        (sent,) = _once()["deliveries"]
    finally:
        ctl.stop()
    assert sent["status"] == "sent", sent
    assert len(inbox.messages) == 1


def test_the_escalation_runs_once_a_day_from_its_time():
    from iocmap.worker_cli import _escalation_due

    at = dt.datetime(2025, 11, 21, 7, 59)
    assert not _escalation_due("08:00", at, None)
    assert _escalation_due("08:00", at.replace(hour=8, minute=0), None)
    assert not _escalation_due("08:00", at.replace(hour=9), at.date())  # ran today already
    assert _escalation_due("08:00", at.replace(day=22, hour=8), at.date())
    assert not _escalation_due("", at.replace(hour=23), None)  # turned off


def test_a_notice_and_its_deliveries_are_recorded_together(scratch):
    """Queueing is part of the issuing transaction: when it fails, no notice is recorded
    (and no number taken)."""
    from geo.errors import BadInput

    (code,) = _overdue_provinces(scratch, 1)
    req = RemindRequest(program="NQ57", overdue=True, province=code, force=True)
    with pytest.raises(BadInput, match="kênh"):
        issue(scratch, req, "test", channels=["email", "fax"])
    assert scalar(scratch, "select count(*) from reminder") == 0
    assert scalar(scratch, "select count(*) from delivery") == 0
    (notice,) = issue(scratch, req, "test", channels=["webhook"])
    assert notice.number == 1
    assert [r.channel for r in rows(scratch, "select channel from delivery")] == ["webhook"]
