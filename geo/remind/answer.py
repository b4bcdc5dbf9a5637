"""A unit's answer to a notice (through its reply link) lands in the tasks' history exactly
as a sheet row would.

Why through the sheet import and not an UPDATE of its own: the answer must pass the same
validation (dates, note lengths, dates in order), leave the same audit trail (one
``task_event`` per changed task, an ``import_run`` of kind ``answers`` whose original bytes
are kept) and wait for the same lock as a task sheet. So the answer is written as a small
CSV with the sheet's own headers ("Mã nhiệm vụ", "Ngày hoàn thành", "Nguyên nhân chậm",
"Giải pháp, kiến nghị", "Dự kiến hoàn thành") and run through ``run_sheet_import`` with a
``TaskSheet`` that refuses any task the notice does not name. The actor is the notice
("phản hồi phiếu nhắc 125/UBND-KGVX"); ``reminder_answer`` records what was submitted and
points at the import run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput, Conflict, NotFound
from geo.ingest.files import store_bytes
from geo.ingest.report import ImportReport
from geo.ingest.sheet_import import ImportOptions, SheetItem, run_sheet_import
from geo.ingest.sheets import CellError
from geo.ingest.task_plan import Row
from geo.ingest.tasks import TaskSheet
from geo.read.followup import reminder_record

HEADERS = ("Mã nhiệm vụ", "Ngày hoàn thành", "Nguyên nhân chậm", "Giải pháp, kiến nghị",
           "Dự kiến hoàn thành")  # fmt: skip
FIELDS = ("completed_at", "reason", "proposal", "expected_at")
MAX_ANSWERS = 20  # answers to one notice (each a new import)
MIN_INTERVAL_S = 5  # between two answers to one notice
TEXT_MAX = 2000  # the sheet's note cap (task_cells.NOTE_MAX)
DATE_MAX = 40


@dataclass
class Answer:
    """One task's answer: done on a date, or reason, proposal and expected date."""

    external_id: str
    done: bool
    completed_at: str = ""
    reason: str = ""
    proposal: str = ""
    expected_at: str = ""

    def as_json(self) -> dict:
        out = {"task": self.external_id, "done": self.done}
        if self.done:
            out["completed_at"] = self.completed_at
        else:
            out |= {"reason": self.reason, "proposal": self.proposal,
                    "expected_at": self.expected_at}  # fmt: skip
        return out


@dataclass
class ReplyNotice:
    """A notice as its reply page shows it: the record and its tasks as they stand now."""

    record: dict
    tasks: list[dict]
    answers: list[dict]


def reply_notice(conn: Connection, reminder_id: int) -> ReplyNotice | None:
    record = reminder_record(conn, reminder_id)
    if record is None:
        return None
    ids = [int(t["task_id"]) for t in record["tasks"] or []]
    rows = conn.execute(
        text(
            "select id, external_id, title, deadline, completed_at, reason, proposal,"
            " expected_at from task where id = any(:ids)"
        ),
        {"ids": ids},
    ).mappings()
    by_id = {r["id"]: dict(r) for r in rows}
    answers = [
        dict(r)
        for r in conn.execute(
            text("select at, answers from reminder_answer where reminder_id = :r order by at desc"),
            {"r": reminder_id},
        ).mappings()
    ]
    return ReplyNotice(record, [by_id[i] for i in ids if i in by_id], answers)


def actor_of(record: dict) -> str:
    return f"phản hồi phiếu nhắc {record.get('doc_number') or record['id']}"


class AnswerSheet(TaskSheet):
    """A task sheet that may only touch the notice's tasks, of the notice's holder."""

    kind = "answers"  # type: ignore[assignment]  # a task sheet logged as an answer

    def __init__(self, reminder_id: int, task_ids: set[int], holder: str) -> None:
        super().__init__()
        self.reminder_id = reminder_id
        self.task_ids = task_ids
        self.holder = holder

    def check(self, conn: Connection, items: list[SheetItem]) -> None:
        # the history stamp names the notice (migration 0022), inside this transaction only
        conn.execute(
            text("select set_config('iocmap.reply', :r, true)"), {"r": str(self.reminder_id)}
        )
        super().check(conn, items)
        for item in items:
            if not isinstance(item, Row):
                continue
            task = self.current.get(item.row_no)
            if (
                task is None
                or task["id"] not in self.task_ids
                or self.units_of(item) - {self.holder}
            ):
                item.problems.append(
                    (
                        "external_id",
                        CellError(
                            f"task {item.code} is not in this notice",
                            vi=f"nhiệm vụ {item.code} không có trong phiếu nhắc này",
                            value=item.code,
                            expected="một nhiệm vụ của phiếu nhắc",
                            expected_en="a task of the notice",
                        ),
                    )
                )


def answer_csv(answers: list[Answer]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for a in answers:
        if a.done:
            writer.writerow([a.external_id, a.completed_at, "", "", ""])
        else:
            writer.writerow([a.external_id, "", a.reason, a.proposal, a.expected_at])
    return out.getvalue().encode("utf-8-sig")


def check_answers(answers: list[Answer], allowed: set[str]) -> dict[str, str]:
    """What the form must say before anything is imported: per task id, the problem."""
    problems: dict[str, str] = {}
    for a in answers:
        if a.external_id not in allowed:
            problems[a.external_id] = "nhiệm vụ không có trong phiếu nhắc này"
        elif a.done and not a.completed_at:
            problems[a.external_id] = "đã chọn “Đã hoàn thành”: hãy nhập ngày hoàn thành"
        elif not a.done and not (a.reason and a.expected_at):
            problems[a.external_id] = (
                "chưa hoàn thành: hãy nêu nguyên nhân và ngày dự kiến hoàn thành"
            )
        elif (
            max(len(a.reason), len(a.proposal)) > TEXT_MAX
            or max(len(a.completed_at), len(a.expected_at)) > DATE_MAX
        ):
            problems[a.external_id] = f"nội dung dài quá {TEXT_MAX} ký tự"
    return problems


def submit(
    engine: Engine,
    reminder_id: int,
    answers: list[Answer],
    remote_addr: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[ImportReport, dict]:
    """Import the answers as a task sheet attributed to the notice; record the answer.
    Raises ``NotFound`` (no notice), ``Conflict`` (withdrawn, or too many/too fast),
    ``BadInput`` (nothing answered)."""
    with engine.connect() as conn:
        found = reply_notice(conn, reminder_id)
        if found is None:
            raise NotFound(f"không có phiếu nhắc số {reminder_id}")
        record = found.record
        if record["withdrawn_at"] is not None:
            raise Conflict("phiếu nhắc này đã được thu hồi; không cần phản hồi")
        count, last = conn.execute(
            text("select count(*), max(at) from reminder_answer where reminder_id = :r"),
            {"r": reminder_id},
        ).one()
    if count >= MAX_ANSWERS:
        raise Conflict(f"phiếu nhắc này đã nhận {MAX_ANSWERS} lần phản hồi (tối đa)")
    now = now or dt.datetime.now(dt.UTC)
    if last is not None and (now - last).total_seconds() < MIN_INTERVAL_S:
        raise Conflict("vừa gửi phản hồi; hãy đợi vài giây rồi gửi lại")
    if not answers:
        raise BadInput("chưa trả lời nhiệm vụ nào", field="answers")
    data = answer_csv(answers)
    sha = store_bytes(engine, data)
    stem = f"phan-hoi_{reminder_id}"
    actor = actor_of(record)
    holder = str(record["holder_code"])
    spec = AnswerSheet(reminder_id, {int(t["id"]) for t in found.tasks}, holder)
    with tempfile.TemporaryDirectory(prefix="iocmap-answer-") as tmp:
        path = Path(tmp) / f"{stem}.csv"
        path.write_bytes(data)
        options = ImportOptions(
            actor=actor,
            display_name=f"{stem}.csv",
            write_rejects_file=False,
            file_sha256=sha,
            lock_timeout_s=10.0,
        )
        report = run_sheet_import(engine, path, spec, options)
    if not report.errors and report.import_id is not None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into reminder_answer (reminder_id, answers, import_run_id,"
                    " remote_addr) values (:r, cast(:a as jsonb), :i, :addr)"
                ),
                {
                    "r": reminder_id,
                    "a": json.dumps([a.as_json() for a in answers], ensure_ascii=False),
                    "i": report.import_id,
                    "addr": (remote_addr or "")[:64] or None,
                },
            )
            conn.execute(text("update data_state set version = version + 1 where id = 1"))
    return report, record
