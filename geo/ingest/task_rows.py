"""A task row's cells → typed values: the task id, dates, programme (from the registry),
group, status and notes, then its holder (a unit, with legacy codes and the province
cross-check, or an agency). Every unparseable cell becomes a problem naming its column.
"""

from __future__ import annotations

from geo.agencies import is_agency_code
from geo.ingest.programmes import Programme, Registry
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheets import CellError, header_level, identifier_value, parse_date, text_value
from geo.ingest.task_cells import parse_difficulty, parse_group, parse_note, parse_status
from geo.ingest.task_plan import Row, reason
from geo.text import normalise_name


def parse_row(row: Row, cols: dict[str, str], registry: Registry) -> None:
    """Cells → typed values; every unparseable cell becomes a problem naming its column."""

    def cell(fld):
        return row.cells.get(cols[fld]) if fld in cols else None

    def attempt(fld, parse):
        if fld not in cols:
            return
        try:
            value = parse(cell(fld))
        except CellError as exc:
            row.problems.append((fld, exc))
            return
        row.values[fld] = value

    try:
        ext = identifier_value(cell("external_id"))  # no invisible or look-alike character
    except CellError as exc:
        row.problems.append(("external_id", exc))
        ext = ""
    if ext == "":
        pass
    elif ext is None:
        row.problems.append(
            (
                "external_id",
                reason(
                    "task id is empty",
                    "mã nhiệm vụ để trống",
                    None,
                    "mã nhiệm vụ (của hệ thống hoặc của đơn vị)",
                    "a task id (ours or the office's own)",
                ),
            )
        )
    else:
        row.values["external_id"] = ext
    attempt("title", lambda v: normalise_name(text_value(v) or "") or None)
    attempt("lead_agency", lambda v: normalise_name(text_value(v) or "") or None)
    attempt("start_date", parse_date)
    attempt("deadline", parse_date)
    attempt("completed_at", parse_date)
    attempt("expected_at", parse_date)
    attempt("program", registry.match)
    attempt("group_no", parse_group)
    attempt("phase", parse_group)
    programme = row.values.pop("program", None)
    if isinstance(programme, Programme):
        # a phase entry ("KH02 giai đoạn 2") is its parent's task with that phase
        row.values["program"] = programme.stored_code
        row.values["_programme"] = programme
        if programme.phase is not None and row.values.get("phase") is None:
            row.values["phase"] = programme.phase
    if "status" in cols:  # the office's own words, kept beside the status the dates give
        said = text_value(cell("status"))
        try:
            row.values["status"] = parse_status(said)
        except CellError:  # words we do not know ("Đã ban hành"): kept, the dates decide
            row.values["status"] = None
            row.values["_status_unknown"] = said
        row.values["office_status"] = said
    attempt("reason", parse_note)
    attempt("proposal", parse_note)
    attempt("person_in_charge", parse_note)
    attempt("product", parse_note)
    attempt("authority", parse_note)
    attempt("difficulty", parse_difficulty)
    attempt("waits_on", parse_note)
    if "title" in row.values and row.values["title"] is None:
        row.values.pop("title")  # an empty title keeps the stored one; required for new tasks
    if "deadline" in row.values and row.values["deadline"] is None:
        row.values.pop("deadline")


def resolve_unit(row: Row, cols: dict[str, str], resolver: UnitResolver) -> None:
    """The row's unit code → a current unit; legacy codes mapped; province cross-checked."""
    source = next((f for f in ("legacy_unit_code", "unit_code") if f in cols), None)
    province = None
    if "province_code" in cols and not _empty(row.cells.get(cols["province_code"])):
        try:
            province, note = resolver.resolve(row.cells[cols["province_code"]], hint="province")
            if note:
                row.notes.append(note)
        except CellError as exc:
            row.problems.append(("province_code", exc))
            return
    value = row.cells.get(cols[source]) if source else None
    if source is None or _empty(value):
        if source and "unit_code" not in cols:
            return
        if province is not None and row.values.get("group_no") is None:
            row.values["unit_code"] = province.code  # a province's own (NQ57) task
        elif source:
            row.problems.append(
                (
                    source,
                    reason(
                        "unit code is empty",
                        "mã đơn vị để trống",
                        None,
                        "mã xã (5 chữ số) hoặc mã tỉnh (2 chữ số)",
                        "a commune code (5 digits) or a province code (2 digits)",
                    ),
                )
            )
        return
    prefer = (
        "commune"
        if row.values.get("group_no") is not None or row.values.get("program") == "KH02"
        else None
    )
    programme = row.values.get("_programme")
    nq57 = row.values.get("program") == "NQ57" or (
        isinstance(programme, Programme) and programme.parent == "NQ57"
    )
    if prefer is None and nq57 and province is None:
        prefer = "province"
    hint = header_level(cols[source])
    name = text_value(row.cells.get(cols["unit_name"])) if "unit_name" in cols else None
    try:
        unit, note = resolver.resolve(
            value,
            hint=hint,
            prefer=prefer,
            name=name,
            legacy=True if source == "legacy_unit_code" else None,
        )
    except CellError as exc:
        row.problems.append((source, exc))
        return
    if note:
        row.notes.append(note)
    if province is not None:
        owner = unit.code if unit.level == "province" else unit.parent_code
        if owner != province.code:
            row.problems.append(
                (
                    source,
                    reason(
                        f"unit {resolver.describe(unit.code)} belongs to province"
                        f" {resolver.describe(owner or '')}, not"
                        f" {resolver.describe(province.code)} as the row says",
                        f"đơn vị {resolver.describe(unit.code)} thuộc tỉnh"
                        f" {resolver.describe(owner or '')}, không phải"
                        f" {resolver.describe(province.code)} như dòng ghi",
                        unit.code,
                        f"mã một xã của tỉnh {resolver.describe(province.code)}",
                        f"the code of a commune of {resolver.describe(province.code)}",
                    ),
                )
            )
            return
    row.values["unit_code"] = unit.code
    row.values["_unit_level"] = unit.level


def check_programme_province(row: Row, resolver: UnitResolver) -> None:
    """A province's own programme (97-CTr/TU of Cà Mau) holds only that province's tasks."""
    programme, code = row.values.get("_programme"), row.values.get("unit_code")
    if not isinstance(programme, Programme) or not programme.province or not code:
        return
    unit = resolver.units.get(code)
    owner = code if unit is None or unit.level == "province" else unit.parent_code
    if owner != programme.province:
        row.problems.append(
            (
                "program",
                reason(
                    f"programme {programme.code} is province {programme.province}'s own;"
                    f" unit {code} is not in that province",
                    f"chương trình {programme.code} là của riêng tỉnh {programme.province};"
                    f" đơn vị {code} không thuộc tỉnh đó",
                    programme.aliases[0] if programme.aliases else programme.code,
                    "chương trình của tỉnh mình, hoặc NQ57 / KH02",
                    "the province's own programme, or NQ57 / KH02",
                ),
            )
        )


def resolve_agency(row: Row, cols: dict[str, str], agencies: set[str]) -> bool:
    """A unit cell holding letters names a ministry or central body (``BKHCN``): True when
    the row was settled here (held by a known agency, or a problem naming the code)."""
    if "unit_code" not in cols:
        return False
    value = text_value(row.cells.get(cols["unit_code"]))
    if value is None or not any(ch.isalpha() for ch in value):
        return False
    code = value.strip().upper()
    if not is_agency_code(code):
        return False
    if code not in agencies:
        row.problems.append(
            (
                "unit_code",
                reason(
                    f"unknown agency code '{code}'",
                    f"không có bộ, ngành mang mã '{code}'",
                    code,
                    "mã bộ, ngành đã đăng ký (BKHCN, BTC, …)",
                    "a registered agency code (BKHCN, BTC, …)",
                ),
            )
        )
        return True
    row.values["agency_code"] = code
    row.values["_unit_level"] = "agency"
    return True


def _empty(value) -> bool:
    return text_value(value) is None
