"""What one task row does: the row model, and the plan that merges it over the stored task
(create / update which fields / nothing) with the rules that need both.

Why apart from ``tasks.py``: the plan is the import's rule book (required fields of a new
task, Plan 02 groups, dates in order, a move to another unit only when allowed); the
importer's steps live in ``tasks.py``, matching in ``task_match.py``, writing in
``task_write.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from geo.ingest.sheet_import import SheetItem
from geo.ingest.sheets import CellError
from geo.text import search_key

FIELDS = ("program", "group_no", "phase", "year", "title", "unit_code", "agency_code",
          "lead_agency", "start_date", "deadline", "completed_at", "reason",
          "proposal", "person_in_charge", "product", "authority", "expected_at", "office_status",
          "completed_at_bound")  # fmt: skip
REQUIRED_NEW = ("title", "unit_code", "deadline")
KH02_GROUPS = 16


@dataclass
class Row(SheetItem):
    """One parsed sheet row: the fields it gives (others keep the stored value)."""

    cells: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        return self.values.get("external_id")


@dataclass
class Plan:
    """What one valid row does: create, update (which fields), or nothing."""

    action: str  # create | update | none
    task_id: int | None = None
    record: dict = field(default_factory=dict)  # all FIELDS after the row is applied
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    moved_from: str | None = None  # the unit a stored task is moved away from


FIELD_VI = {"title": "tên nhiệm vụ", "unit_code": "mã đơn vị", "deadline": "hạn hoàn thành"}


def reason(en: str, vi: str, value: object = None, expected: str = "", expected_en: str = ""):
    return CellError(
        en, vi=vi, value=value, expected=expected or None, expected_en=expected_en or None
    )


def moved_text(old: str, new: object, lang: str) -> str:
    if lang == "en":
        return f"the task moves from unit {old} to unit {new} (moving was allowed)"
    return f"nhiệm vụ được chuyển từ đơn vị {old} sang đơn vị {new} (đã cho phép chuyển đơn vị)"


# The office's status words → what they assert: done, late, or on time ("Đang triển khai"
# asserts only "not done", which the dates may call overdue without contradiction).
OFFICE_LATE = {"cham tien do", "cham", "qua han", "hoan thanh qua han", "tre han",
               "overdue", "completed late"}  # fmt: skip
OFFICE_ON_TIME = {"trong han", "dung tien do", "hoan thanh dung han", "on time"}


def plan_row(
    row: Row,
    current: dict | None,
    move_units: bool = False,
    report_date: dt.date | None = None,
) -> Plan:
    """Merge the row over the stored task; check the rules that need both.

    ``report_date`` is the day the sheet reports on (its title block, the option, or the
    day of the import): a row marked done without a completion date is taken as done no
    later than that day (see ``_done_without_date``)."""
    # an empty cell never erases a stored value (a sheet that leaves "Ngày hoàn thành" blank
    # must not reopen a completed task)
    given = {k: v for k, v in row.values.items() if k in FIELDS and v is not None}
    status = row.values.get("status")
    moved_from = None
    if current is None:
        failed = {f for f, _ in row.problems} | ({"unit_code"} if row.problems else set())
        if given.get("agency_code") is not None:
            failed.add("unit_code")  # held by an agency
        for f in REQUIRED_NEW:
            if given.get(f) is None and f not in failed:
                row.problems.append(
                    (
                        f,
                        reason(
                            f"a new task needs '{f}'",
                            f"nhiệm vụ mới (mã chưa có) cần {FIELD_VI[f]}",
                            None,
                            f"{FIELD_VI[f]} của nhiệm vụ, hoặc mã của một nhiệm vụ đã có",
                            f"the task's {f}, or the id of a stored task",
                        ),
                    )
                )
        level = row.values.get("_unit_level")
        record: dict[str, Any] = {f: None for f in FIELDS}
        record["program"] = "KH02" if level == "commune" and given.get("group_no") else "NQ57"
        record["phase"] = 1 if record["program"] == "KH02" else None
        record.update(given)
    else:
        record = {f: current[f] for f in FIELDS}
        record.update(given)
        for holder in ("unit_code", "agency_code"):
            old_holder = current[holder] or current["unit_code"] or current["agency_code"]
            if holder in given and given[holder] != current[holder] and old_holder:
                if not move_units:
                    row.problems.append(
                        (
                            holder if holder in row.values else "unit_code",
                            reason(
                                f"task {current['external_id']} belongs to unit {old_holder},"
                                f" the row says {given[holder]}; moving a task to another unit"
                                " needs the explicit option",
                                f"nhiệm vụ {current['external_id']} thuộc đơn vị {old_holder},"
                                f" dòng ghi {given[holder]}; muốn chuyển nhiệm vụ sang đơn vị"
                                " khác phải chọn rõ “cho phép chuyển đơn vị”",
                                given[holder],
                                f"{old_holder}, hoặc chọn cho phép chuyển đơn vị",
                                f"{old_holder}, or allow moving tasks between units",
                            ),
                        )
                    )
                else:
                    moved_from = old_holder
    if "agency_code" in given:  # one holder: a unit or an agency
        record["unit_code"] = None
    elif "unit_code" in given:
        record["agency_code"] = None
    if record.get("deadline") is not None:
        record["year"] = record["deadline"].year
    group = record.get("group_no")
    if record.get("program") == "KH02" and group not in (None, *range(1, KH02_GROUPS + 1)):
        row.problems.append(
            (
                "group_no",
                reason(
                    f"Plan 02 has task groups 1–{KH02_GROUPS}, not {group}",
                    f"Kế hoạch 02 có các nhóm nhiệm vụ 1–{KH02_GROUPS}, không có nhóm {group}",
                    group,
                    f"số nhóm từ 1 đến {KH02_GROUPS}",
                    f"a group number 1–{KH02_GROUPS}",
                ),
            )
        )
    start, done = record.get("start_date"), record.get("completed_at")
    if start and done and done < start:
        row.problems.append(
            (
                "completed_at",
                reason(
                    f"completion date {done:%d/%m/%Y} is before the start date {start:%d/%m/%Y}",
                    f"ngày hoàn thành {done:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}",
                    f"{done:%d/%m/%Y}",
                    f"một ngày từ {start:%d/%m/%Y} trở đi",
                    f"a date on or after {start:%d/%m/%Y}",
                ),
            )
        )
    if "completed_at" in given:
        record["completed_at_bound"] = False  # a real date replaces a bound
    if status is True and done is None:
        done = _done_without_date(row, record, report_date or dt.date.today())
    _office_disagrees(row, record, report_date or dt.date.today())
    if status is False and "completed_at" in given and done is not None:
        row.notes.append("status says not completed but a completion date is given; the date wins")
    if row.problems:
        return Plan("none")
    record["completed_at_bound"] = bool(record.get("completed_at_bound"))
    if current is None:
        return Plan("create", None, record, {}, {f: record[f] for f in FIELDS})
    old = {f: current[f] for f in FIELDS if current[f] != record[f]}
    new = {f: record[f] for f in old}
    return Plan("update" if old else "none", current["id"], record, old, new, moved_from)


def _done_without_date(row: Row, record: dict, bound: dt.date) -> dt.date:
    """A row marked done with no completion date: done, on a day unknown but no later
    than the report date. The bound is stored as ``completed_at`` with
    ``completed_at_bound`` set, so every count calls the task done — on time when the bound
    is on or before the deadline, late otherwise (we cannot show it was on time) — and the
    row is flagged ("undated") in the report and in the task's history."""
    start = record.get("start_date")
    if start and bound < start:
        row.problems.append(
            (
                "status",
                reason(
                    f"marked done without a completion date, but the report date"
                    f" {bound:%d/%m/%Y} is before the start date {start:%d/%m/%Y}",
                    f"ghi đã hoàn thành nhưng không có ngày hoàn thành, và ngày báo cáo"
                    f" {bound:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}",
                    None,
                    "ngày hoàn thành (ngày/tháng/năm) ở cột Ngày hoàn thành",
                    "the completion date (dd/mm/yyyy) in the completion-date column",
                ),
            )
        )
        return bound
    record["completed_at"] = bound
    record["completed_at_bound"] = True
    row.values["_undated"] = bound
    return bound


def office_state(text: object) -> str | None:
    """What the office's status words assert: ``late``, ``on_time`` or None (nothing the
    dates could contradict)."""
    key = f" {search_key(str(text or ''))} "
    if key.strip() in OFFICE_LATE or any(f" {w} " in key for w in ("qua han", "tre han", "cham")):
        return "late"
    if key.strip() in OFFICE_ON_TIME or any(
        f" {w} " in key for w in ("dung han", "truoc han", "trong han", "dung tien do")
    ):
        return "on_time"
    return None


def _office_disagrees(row: Row, record: dict, as_of: dt.date) -> None:
    """The office's status against the date rule at the report date: a disagreement is a
    note the report shows as a warning (``row.values["_disagrees"]``), never an error —
    the office's word is kept as ``office_status`` beside the computed status."""
    said = office_state(row.values.get("office_status"))
    deadline, done = record.get("deadline"), record.get("completed_at")
    if said is None or deadline is None:
        return
    late = done > deadline if done is not None else deadline < as_of
    if (said == "late") != late:
        if done is not None:
            how = ("done_late" if late else "done_on_time", done, deadline)
        else:
            how = ("overdue" if late else "not_due", as_of, deadline)
        row.values["_disagrees"] = how


# what the dates say, for the disagreement warning: (vi, en) with the day and the deadline
_DATES_SAY = {
    "done_late": ("đã hoàn thành ngày {0:%d/%m/%Y}, sau hạn {1:%d/%m/%Y}",
                  "completed on {0:%d/%m/%Y}, after the deadline {1:%d/%m/%Y}"),
    "done_on_time": ("đã hoàn thành ngày {0:%d/%m/%Y}, đúng hạn {1:%d/%m/%Y}",
                     "completed on {0:%d/%m/%Y}, by the deadline {1:%d/%m/%Y}"),
    "overdue": ("đến ngày {0:%d/%m/%Y} đã quá hạn {1:%d/%m/%Y}",
                "on {0:%d/%m/%Y} past the deadline {1:%d/%m/%Y}"),
    "not_due": ("đến ngày {0:%d/%m/%Y} chưa đến hạn {1:%d/%m/%Y}",
                "on {0:%d/%m/%Y} not yet due ({1:%d/%m/%Y})"),
}  # fmt: skip


def flag_row(report: Any, row: Row, cols: dict[str, str], lang: str) -> None:
    """The per-row flags of the report: done without a date (``report.undated`` and a
    warning), and the office's status disagreeing with the date rule (a warning)."""
    bound = row.values.get("_undated")
    status_col = cols.get("status")
    office = row.values.get("office_status")
    if isinstance(bound, dt.date):
        report.undated.append({"row": row.row_no, "code": row.code,
                               "completed_by": bound.isoformat()})  # fmt: skip
        told = report.report_date is not None  # else the bound is the day of the import
        report.warn(
            f"marked done without a completion date: counted as done by"
            f" {'the report date' if told else 'today'} {bound:%d/%m/%Y} (the real date is"
            " unknown)"
            if lang == "en"
            else f"ghi hoàn thành nhưng không có ngày hoàn thành: tính là hoàn thành chậm nhất"
            f" vào {'ngày báo cáo' if told else 'hôm nay'} {bound:%d/%m/%Y} (ngày thực tế"
            " chưa rõ)",
            row=row.row_no, code=row.code, field=status_col, value=office,
            expected=("the completion date, if known" if lang == "en"
                      else "ngày hoàn thành thực tế, nếu biết"),
        )  # fmt: skip
    unknown = row.values.get("_status_unknown")
    if unknown:
        report.warn(
            f"status '{unknown}' is not a known status word: it is kept as the office wrote"
            " it; done or not is decided by the completion date"
            if lang == "en"
            else f"tình trạng '{unknown}' không phải là từ đã biết: vẫn lưu như đơn vị ghi;"
            " hoàn thành hay chưa tính theo ngày hoàn thành",
            row=row.row_no, code=row.code, field=status_col, value=unknown,
            expected="Đã hoàn thành / Đang thực hiện / Chậm tiến độ / Quá hạn",
        )  # fmt: skip
    computed = row.values.get("_disagrees")
    if computed:
        kind, day, deadline = computed
        vi, en = _DATES_SAY[kind]
        report.warn(
            f"the office's status '{office}' disagrees with the dates (the task is"
            f" {en.format(day, deadline)}); the office's status is kept as written, the map"
            " uses the dates"
            if lang == "en"
            else f"tình trạng đơn vị ghi '{office}' khác với tính theo ngày (nhiệm vụ"
            f" {vi.format(day, deadline)}); vẫn lưu tình trạng đơn vị ghi, bản đồ tính"
            " theo ngày",
            row=row.row_no, code=row.code, field=status_col, value=office,
        )  # fmt: skip
