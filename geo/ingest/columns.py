"""Every column of a sheet accounted for: used (for which field) or ignored (with the field
it most likely means), and the clerk's header mapping applied.

Why: a header renamed by an office ("Ngày phải xong" for "Hạn hoàn thành") used to be
dropped with one line in the CLI's notes, so the page said "Không đổi 57" and the clerk
believed the deadlines were sent. Now the report lists each header; an ignored header that
resembles a field is a warning at the top of the report, and the upload page applies
nothing until the clerk maps the header to the field or confirms it is to be ignored. The
decision travels as a mapping ``{"file header": "field"}`` (``""`` = ignore), sent with the
API (``columns=``), the CLI (``--column "Ngày phải xong=deadline"``) and the page (which
remembers it per browser).

How "resembles" is decided, two signals, words first: (1) meaning words — short phrases
that say what a column holds ("phải", "hạn" → deadline; "thực tế" → completion date;
"nguyên nhân", "vướng mắc" → reason), matched as whole tokens without diacritics; (2) the
header's similarity to the known header texts (``rapidfuzz`` token-sort ratio ≥ 80), for
spelling variants. Character similarity alone was tried and rejected: "Ngày phải xong" is
closer to "Mã phường" than to "Hạn hoàn thành" by characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapidfuzz import fuzz

from geo.errors import BadInput
from geo.ingest.programmes import tokens
from geo.text import search_key

FUZZY_MIN = 80.0
# field → phrases (diacritic-free, whole tokens) that say a column holds that field
MEANING: dict[str, tuple[str, ...]] = {
    "deadline": ("han", "thoi han", "han chot", "phai", "phai xong", "can xong", "du kien",
                 "ke hoach hoan thanh", "due", "deadline"),
    "completed_at": ("thuc te", "da xong", "ngay xong", "xong ngay", "hoan thanh thuc te",
                     "completed", "done", "finished"),
    "start_date": ("bat dau", "ngay giao", "khoi dong", "start"),
    "title": ("noi dung", "ten nhiem vu", "cong viec", "nhiem vu", "title"),
    "status": ("tinh trang", "trang thai", "ket qua", "tien do", "muc do", "status"),
    "reason": ("nguyen nhan", "kho khan", "vuong mac", "ly do", "cham", "reason"),
    "proposal": ("de xuat", "kien nghi", "giai phap", "proposal"),
    "lead_agency": ("chu tri", "co quan", "don vi thuc hien"),
    "external_id": ("ma nv", "ma nhiem vu", "ma so"),
    "unit_code": ("ma xa", "ma phuong", "ma don vi", "ma dvhc"),
    "province_code": ("ma tinh",),
    "group_no": ("nhom",),
    "phase": ("giai doan",),
    "program": ("chuong trinh", "ke hoach", "nghi quyet"),
    "person_in_charge": ("phu trach", "dau moi", "can bo", "nguoi thuc hien", "theo doi"),
    "product": ("san pham", "dau ra"),
    "authority": ("tham quyen", "cap quyet dinh", "cap phe duyet"),
    "expected_at": ("du kien hoan thanh", "du kien xong", "expected"),
    "difficulty": ("phan loai", "nhom kho khan", "loai kho khan", "nhom vuong mac",
                   "nhom nguyen nhan"),
    "waits_on": ("cho", "phu thuoc", "trung uong lien quan"),
}  # fmt: skip
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "external_id": ("Mã nhiệm vụ", "task id"),
    "title": ("Tên nhiệm vụ", "title"),
    "legacy_unit_code": ("Mã đơn vị cũ", "old unit code"),
    "unit_code": ("Mã đơn vị (xã/tỉnh/bộ)", "unit code"),
    "province_code": ("Mã tỉnh", "province code"),
    "unit_name": ("Tên đơn vị", "unit name"),
    "program": ("Chương trình", "programme"),
    "group_no": ("Nhóm nhiệm vụ", "task group"),
    "phase": ("Giai đoạn", "phase"),
    "lead_agency": ("Đơn vị chủ trì", "lead unit"),
    "start_date": ("Ngày bắt đầu", "start date"),
    "deadline": ("Hạn hoàn thành", "deadline"),
    "completed_at": ("Ngày hoàn thành", "completion date"),
    "status": ("Tình trạng", "status"),
    "reason": ("Nguyên nhân chậm", "reason for delay"),
    "proposal": ("Giải pháp, kiến nghị", "proposal"),
    "person_in_charge": ("Người phụ trách", "person in charge"),
    "product": ("Sản phẩm", "product"),
    "authority": ("Cấp có thẩm quyền", "deciding authority"),
    "expected_at": ("Dự kiến hoàn thành", "expected completion"),
    "difficulty": ("Nhóm khó khăn", "difficulty category"),
    "waits_on": ("Chờ (cơ quan / nhiệm vụ trung ương)", "waits on"),
}


def label(fld: str | None, lang: str) -> str | None:
    if fld is None:
        return None
    vi, en = FIELD_LABELS.get(fld, (fld, fld))
    return en if lang == "en" else vi


def _contains(cell: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(cell[i : i + n]) == tuple(phrase) for i in range(len(cell) - n + 1))


def likely_field(header: str, aliases: Mapping[str, Sequence[str]]) -> tuple[str | None, int]:
    """(the field ``header`` most likely means, a 0–100 score) or (None, 0)."""
    words = tokens(header)
    hits = {
        fld: sum(1 for p in phrases if _contains(words, p.split()))
        for fld, phrases in MEANING.items()
        if fld in aliases
    }
    key = search_key(header)
    fuzzy = {
        fld: max((fuzz.token_sort_ratio(key, search_key(a)) for a in known), default=0.0)
        for fld, known in aliases.items()
    }
    best_hits = max(hits.values(), default=0)
    if best_hits:
        top = max((f for f, h in hits.items() if h == best_hits), key=lambda f: fuzzy.get(f, 0))
        return top, min(99, 60 + 10 * best_hits)
    close = max(fuzzy, key=lambda f: fuzzy[f], default=None)
    if close is not None and fuzzy[close] >= FUZZY_MIN:
        return close, int(fuzzy[close])
    return None, 0


def apply_mapping(
    headers: Sequence[str],
    cols: dict[str, str],
    mapping: Mapping[str, str] | None,
    aliases: Mapping[str, Sequence[str]],
) -> tuple[dict[str, str], set[str]]:
    """The clerk's mapping over the automatic one: (field → header, headers confirmed as
    ignored). Headers of the mapping that the sheet does not have are skipped (a saved
    mapping serves many sheets); an unknown field is a ``BadInput`` naming it."""
    out = dict(cols)
    ignored: set[str] = set()
    present = {search_key(h): h for h in headers}
    for raw_header, fld in (mapping or {}).items():
        header = present.get(search_key(raw_header))
        if fld and fld not in aliases:
            raise BadInput(
                f"columns: '{fld}' is not a field (known: {', '.join(aliases)})",
                field="columns",
            )
        if header is None:
            continue
        out = {f: h for f, h in out.items() if h != header}
        if fld:
            out[fld] = header
        else:
            ignored.add(header)
    return out, ignored


def account(
    headers: Sequence[str],
    cols: Mapping[str, str],
    confirmed: set[str],
    mapping: Mapping[str, str] | None,
    aliases: Mapping[str, Sequence[str]],
    lang: str = "vi",
) -> list[dict]:
    """One entry per header: used (``field``, ``by`` name or mapping) or ignored (``likely``
    field and ``score``, ``confirmed`` when the clerk chose to ignore it, ``warn`` when it
    resembles a field no other column gives and nobody decided)."""
    used = {h: f for f, h in cols.items()}
    by_mapping = {search_key(h) for h, f in (mapping or {}).items() if f}
    out: list[dict[str, object]] = []
    for h in headers:
        if h in used:
            out.append({
                "header": h, "status": "used", "field": used[h], "label": label(used[h], lang),
                "by": "mapping" if search_key(h) in by_mapping else "name",
            })  # fmt: skip
            continue
        fld, score = likely_field(h, aliases)
        out.append({
            "header": h, "status": "ignored", "likely": fld, "label": label(fld, lang),
            "score": score, "confirmed": h in confirmed,
            "warn": bool(fld) and h not in confirmed and fld not in cols,
        })  # fmt: skip
    return out


def warning_text(entry: dict, lang: str) -> str:
    h, fld = entry["header"], entry["label"]
    if lang == "en":
        return (
            f"column '{h}' is ignored but looks like '{fld}': map it to that field or confirm"
            " that it is to be ignored (nothing from this column is imported)"
        )
    return (
        f"cột '{h}' không được dùng nhưng có vẻ là '{fld}': hãy ghép cột này với trường đó"
        " hoặc xác nhận bỏ qua (chưa có dữ liệu nào của cột này được nhập)"
    )
