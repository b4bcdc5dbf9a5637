"""What the cells of a task sheet may say: column aliases and the programme, group and
status vocabularies, each parsed to one clean value or a ``CellError``.

Why apart from ``tasks.py``: this is the data of the format (the words offices use), which
grows with every new sheet seen; ``tasks.py`` is the rule of the import.
"""

from __future__ import annotations

from geo.ingest.sheets import CellError, parse_int, text_value
from geo.text import normalise_name, search_key

# Our field → header texts seen in the wild, best first (compared without case/diacritics).
ALIASES: dict[str, list[str]] = {
    "external_id": [
        "Mã nhiệm vụ",
        "Mã NV",
        "Mã số nhiệm vụ",
        "Mã số",
        "Số hiệu nhiệm vụ",
        "external_id",
        "task_id",
        "task id",
        "task code",
        "ma_nv",
        "id",
    ],
    "title": [
        "Tên nhiệm vụ",
        "Nhiệm vụ",
        "Nội dung nhiệm vụ",
        "Nội dung",
        "title",
        "task",
        "ten_nv",
    ],
    "legacy_unit_code": [
        "Mã đơn vị cũ",
        "Mã xã cũ",
        "Mã ĐVHC cũ",
        "Mã xã (cũ)",
        "old_unit_code",
        "legacy_unit_code",
        "legacy_code",
        "ma_xa_cu",
    ],
    "unit_code": [
        "Mã đơn vị",
        "Mã bộ, ngành",
        "Mã cơ quan",
        "Mã xã",
        "Mã phường",
        "Mã xã/phường",
        "Mã ĐVHC",
        "unit_code",
        "unit",
        "commune_code",
        "ward_code",
        "ma_xa",
        "ma_don_vi",
        "ma_dvhc",
    ],
    "province_code": ["Mã tỉnh", "Mã tỉnh/thành phố", "Mã tỉnh/TP", "province_code", "ma_tinh"],
    "unit_name": ["Tên đơn vị", "Tên xã", "Tên xã/phường", "Đơn vị", "unit_name"],
    "program": ["Chương trình", "Chương trình/Kế hoạch", "Nguồn nhiệm vụ", "program"],
    "group_no": ["Nhóm nhiệm vụ", "Nhóm", "Nhóm NV", "group_no", "group", "task_group"],
    "phase": ["Giai đoạn", "phase"],
    "lead_agency": [
        "Đơn vị chủ trì",
        "Cơ quan chủ trì",
        "Cơ quan, đơn vị chủ trì",
        "Cơ quan chủ trì thực hiện",
        "Đơn vị thực hiện",
        "Cơ quan thực hiện",
        "Đơn vị chủ trì thực hiện",
        "Chủ trì",
        "lead_agency",
        "lead unit",
    ],
    "start_date": ["Ngày bắt đầu", "Ngày giao", "start_date", "start"],
    "deadline": [
        "Hạn hoàn thành",
        "Thời hạn hoàn thành",
        "Thời hạn",
        "Hạn",
        "Thời hạn thực hiện",
        "Thời gian hoàn thành",
        "Hạn xử lý",
        "deadline",
        "due_date",
        "due",
    ],
    "completed_at": [
        "Ngày hoàn thành",
        "Ngày hoàn thành thực tế",
        "Thời gian hoàn thành thực tế",
        "completed_at",
        "completion_date",
        "completed",
        "done_at",
    ],
    "status": [
        "Tình trạng",
        "Trạng thái",
        "Tiến độ",
        "Tình hình thực hiện",
        "Kết quả thực hiện",
        "Kết quả",
        "status",
    ],
    "reason": [
        "Nguyên nhân chậm",
        "Nguyên nhân chậm tiến độ",
        "Nguyên nhân chưa hoàn thành",
        "Nguyên nhân",
        "Khó khăn, vướng mắc",
        "Khó khăn vướng mắc",
        "Khó khăn, vướng mắc, nguyên nhân",
        "Nguyên nhân, khó khăn, vướng mắc",
        "Nguyên nhân chậm, khó khăn vướng mắc",
        "Nguyên nhân chậm, khó khăn, vướng mắc",
        "Khó khăn, vướng mắc và nguyên nhân",
        "Khó khăn, vướng mắc, nguyên nhân chậm",
        "Vướng mắc",
        "Khó khăn",
        "Lý do chậm",
        "Lý do",
        "reason",
        "delay_reason",
    ],
    "proposal": [
        "Giải pháp, kiến nghị",
        "Giải pháp kiến nghị",
        "Kiến nghị, đề xuất",
        "Đề xuất, kiến nghị",
        "Giải pháp, đề xuất",
        "Giải pháp khắc phục",
        "Đề xuất, kiến nghị, giải pháp",
        "Giải pháp, đề xuất, kiến nghị",
        "Giải pháp",
        "Kiến nghị",
        "Đề xuất",
        "proposal",
        "solution",
    ],
    "person_in_charge": [
        "Người phụ trách",
        "Cán bộ phụ trách",
        "Cán bộ đầu mối",
        "Đầu mối",
        "Người theo dõi",
        "Cán bộ theo dõi",
        "Người thực hiện",
        "person_in_charge",
    ],
    "product": ["Sản phẩm", "Sản phẩm đầu ra", "Kết quả đầu ra", "Hình thức văn bản", "product"],
    "authority": [
        "Cấp có thẩm quyền",
        "Cấp có thẩm quyền quyết định",
        "Cấp có thẩm quyền phê duyệt",
        "Cấp quyết định",
        "Thẩm quyền",
        "Cấp phê duyệt",
        "Cơ quan có thẩm quyền",
        "authority",
    ],
    "expected_at": [
        "Dự kiến hoàn thành",
        "Ngày dự kiến hoàn thành",
        "Thời gian dự kiến hoàn thành",
        "Thời hạn dự kiến hoàn thành",
        "Dự kiến thời gian hoàn thành",
        "expected_at",
    ],
    "difficulty": [
        "Nhóm khó khăn",
        "Phân loại khó khăn",
        "Loại khó khăn",
        "Nhóm vướng mắc",
        "Phân loại vướng mắc",
        "Loại vướng mắc",
        "Nhóm nguyên nhân",
        "Phân loại nguyên nhân",
        "difficulty",
        "difficulty_category",
    ],
    "waits_on": [
        "Chờ",
        "Đang chờ",
        "Phụ thuộc",
        "Phụ thuộc vào",
        "Chờ hướng dẫn của",
        "Chờ cơ quan",
        "Chờ nhiệm vụ",
        "Cơ quan trung ương liên quan",
        "Nhiệm vụ trung ương liên quan",
        "waits_on",
    ],
}
NOTE_MAX = 2000  # characters of a reason or proposal cell


def parse_difficulty(value: object) -> str | None:
    """A sheet's difficulty category cell → its code (``geo.difficulties``)."""
    from geo.difficulties import parse_category

    said = text_value(value)
    try:
        return parse_category(said)
    except ValueError as exc:
        raise CellError(
            f"unknown difficulty category '{said}'",
            vi=f"nhóm khó khăn '{said}' không có trong danh mục",
            value=said,
            expected=str(exc),
            expected_en="institutions, finance, people, infrastructure, data, technology,"
            " coordination, other",
        ) from None


def parse_note(value: object) -> str | None:
    """A reason/proposal cell: NFC text, whitespace collapsed, bounded."""
    text = text_value(value)
    if text is None:
        return None
    text = " ".join(normalise_name(text).split())
    if len(text) > NOTE_MAX:
        raise CellError(
            f"longer than {NOTE_MAX} characters ({len(text)})",
            vi=f"dài hơn {NOTE_MAX} ký tự ({len(text)})",
            value=text[:40] + "…",
            expected=f"tối đa {NOTE_MAX} ký tự",
            expected_en=f"at most {NOTE_MAX} characters",
        )
    return text or None


DONE = {"da hoan thanh", "hoan thanh", "hoan thanh qua han", "hoan thanh dung han", "xong",
        "completed", "completed late", "done", "finished"}  # fmt: skip
NOT_DONE = {"dang thuc hien", "dang trien khai", "chua trien khai", "chua thuc hien",
            "chua hoan thanh", "trong han", "dung tien do", "qua han",
            "cham tien do", "cham", "in progress", "on time", "overdue",
            "not started", "open"}  # fmt: skip


ROMAN_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
                  "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX")  # fmt: skip
ROMAN = {r: i for i, r in enumerate(ROMAN_NUMERALS, 1)}


def parse_group(value: object) -> int | None:
    """``3``, ``"Nhóm 3"``, ``"Nhóm III"`` (Roman numerals, as in many plans) → 3."""
    text = text_value(value)
    if text is None:
        return None
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    if not digits:
        digits = [str(ROMAN[w]) for w in text.replace(".", " ").split() if w in ROMAN]
    if len(digits) != 1:
        raise CellError(
            f"'{text}' is not a group/phase number",
            vi=f"'{text}' không phải là số nhóm/giai đoạn",
            value=text,
            expected="một số, ví dụ 3 hoặc “Nhóm 3”",
            expected_en="one number, e.g. 3 or “Nhóm 3”",
        )
    return parse_int(digits[0])


def parse_status(value: object) -> bool | None:
    text = text_value(value)
    if text is None:
        return None
    key = search_key(text)
    if key in DONE:
        return True
    if key in NOT_DONE:
        return False
    # longer wordings: "Đã hoàn thành đúng hạn", "Hoàn thành trước hạn", "Đang thực hiện
    # (trong hạn)", "Chưa hoàn thành - quá hạn"
    if key.startswith(("chua", "dang", "cham", "qua han", "tre han", "khong hoan thanh")):
        return False
    if key.startswith(("da hoan thanh", "hoan thanh", "xong")):
        return True
    raise CellError(
        f"'{text}' is not a status (Đã hoàn thành / Đang thực hiện / Quá hạn)",
        vi=f"'{text}' không phải là tình trạng đã biết",
        value=text,
        expected="Đã hoàn thành / Hoàn thành / Đang thực hiện / Chưa hoàn thành / Quá hạn",
        expected_en="Đã hoàn thành / Hoàn thành / Đang thực hiện / Chưa hoàn thành / Quá hạn",
    )
