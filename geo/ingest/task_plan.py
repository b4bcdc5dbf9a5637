"""What one task row does: the row model, and the plan that merges it over the stored task
(create / update which fields / nothing) with the rules that need both.

Why apart from ``tasks.py``: the plan is the import's rule book (required fields of a new
task, Plan 02 groups, dates in order, a move to another unit only when allowed); the
importer's steps live in ``tasks.py``, matching in ``task_match.py``, writing in
``task_write.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.ingest.sheet_import import SheetItem
from geo.ingest.sheets import CellError

FIELDS = ("program", "group_no", "phase", "year", "title", "unit_code", "agency_code",
          "lead_agency", "start_date", "deadline", "completed_at", "reason",
          "proposal")  # fmt: skip
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


def plan_row(row: Row, current: dict | None, move_units: bool = False) -> Plan:
    """Merge the row over the stored task; check the rules that need both."""
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
    if status is True and done is None:
        row.problems.append(
            (
                "status",
                reason(
                    "status says completed but there is no completion date",
                    "tình trạng ghi đã hoàn thành nhưng không có ngày hoàn thành",
                    None,
                    "ngày hoàn thành (ngày/tháng/năm) ở cột Ngày hoàn thành",
                    "the completion date (dd/mm/yyyy) in the completion-date column",
                ),
            )
        )
    if status is False and "completed_at" in given and done is not None:
        row.notes.append("status says not completed but a completion date is given; the date wins")
    if row.problems:
        return Plan("none")
    if current is None:
        return Plan("create", None, record, {}, {f: record[f] for f in FIELDS})
    old = {f: current[f] for f in FIELDS if current[f] != record[f]}
    new = {f: record[f] for f in old}
    return Plan("update" if old else "none", current["id"], record, old, new, moved_from)
