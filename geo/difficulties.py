"""The register of difficulties: the documented categories of a reason for delay, the
keyword rules that suggest one from the reason's text, and what a task waits on.

Why categories at all: the central working group answers "the major difficulties" by kind
(institutions, money, people …); free text cannot be counted or mapped. Why keyword rules
and not a model: the reasons are short office prose with a small vocabulary ("chưa có
hướng dẫn", "thiếu kinh phí", "thiếu cán bộ"), the rules are readable and correctable by
the office, and a suggestion is marked as such (``suggested``) until a sheet's own
category column or an editor confirms it.

The categories (code, Vietnamese, English) are the documented list of issue 28 and of
``docs/difficulties.md``; the order is the display order. ``other`` is never suggested:
a reason no rule recognises stays uncategorised until someone says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.text import search_key


@dataclass(frozen=True)
class Category:
    code: str
    vi: str
    en: str
    keywords: tuple[str, ...]  # diacritic-free phrases, matched as whole words

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


CATEGORIES: tuple[Category, ...] = (
    Category("institutions", "Thể chế, chính sách", "Institutions and policy",
             ("the che", "chinh sach", "co che", "quy dinh", "van ban", "nghi dinh",
              "thong tu", "huong dan", "phap ly", "hanh lang phap ly", "quyet dinh",
              "ban hanh", "sua doi", "thu tuc")),
    Category("finance", "Tài chính, kinh phí", "Finance",
             ("kinh phi", "tai chinh", "ngan sach", "von", "du toan", "giai ngan",
              "nguon von", "chi phi", "thanh toan", "bo tri von")),
    Category("people", "Nhân lực", "People",
             ("nhan luc", "can bo", "nhan su", "bien che", "chuyen trach", "dao tao",
              "boi duong", "thieu nguoi", "ky nang", "trinh do")),
    Category("infrastructure", "Hạ tầng, trang thiết bị", "Infrastructure",
             ("ha tang", "trang thiet bi", "thiet bi", "may tinh", "duong truyen",
              "mang", "internet", "cap quang", "song di dong", "co so vat chat",
              "trung tam du lieu", "may chu")),
    Category("data", "Dữ liệu, hệ thống thông tin", "Data and systems",
             ("du lieu", "co so du lieu", "he thong", "phan mem", "lien thong",
              "ket noi", "dong bo", "tich hop", "chia se du lieu", "lam sach")),
    Category("technology", "Công nghệ", "Technology",
             ("cong nghe", "giai phap cong nghe", "nen tang", "tri tue nhan tao", "ai",
              "an toan thong tin", "an ninh mang", "bao mat", "chuyen giao cong nghe")),
    Category("coordination", "Phối hợp giữa các cấp", "Coordination between levels",
             ("phoi hop", "cho y kien", "xin y kien", "trung uong", "bo nganh",
              "lien nganh", "cac cap", "thong nhat", "cho phe duyet", "cap tren")),
    Category("other", "Khác", "Other", ()),
)  # fmt: skip
BY_CODE = {c.code: c for c in CATEGORIES}
CODES = tuple(BY_CODE)

# "chờ hướng dẫn của Bộ …", "đợi ý kiến của Bộ …", "phụ thuộc Bộ …": the words before the body
# "chưa có hướng dẫn của Bộ …", "chưa nhận được văn bản của Bộ …"
WAITING = re.compile(
    r"\b(cho|doi|phu thuoc|vuong|chua co|chua nhan duoc)\b(?:\s+\w+){0,5}?\s+"
    r"(bo|ngan hang nha nuoc|van phong chinh phu|thanh tra chinh phu|uy ban)\b"
)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", search_key(text))) + " "


def suggest(reason: str | None) -> str | None:
    """The category the reason's words point to (most phrases matched; ties: the list's
    order), or None when no rule recognises it."""
    if not reason:
        return None
    words = _words(reason)
    best, hits = None, 0
    for cat in CATEGORIES:
        n = sum(words.count(f" {k} ") for k in cat.keywords)
        if n > hits:
            best, hits = cat.code, n
    return best


def parse_category(cell: str | None) -> str | None:
    """A sheet's category cell → a code: the code, the Vietnamese or English label, or the
    label's first word(s) ("Tài chính", "thể chế"), diacritics optional. None when empty;
    ``ValueError`` naming the list when it is none of them."""
    if cell is None or not str(cell).strip():
        return None
    key = search_key(str(cell)).strip()
    for cat in CATEGORIES:
        names = (cat.code, search_key(cat.vi), search_key(cat.en))
        if key in names or any(n.startswith(key) and len(key) >= 4 for n in names[1:]):
            return cat.code
    raise ValueError(", ".join(c.vi for c in CATEGORIES))


def waits_on_central(reason: str | None, agencies: dict[str, str]) -> tuple[bool, str | None]:
    """Whether a reason says the task waits on the central level ("chờ hướng dẫn của Bộ
    Khoa học và Công nghệ", "chưa có hướng dẫn của bộ, ngành trung ương"), and which body
    when its name (``agencies``: search key of the name → code) follows the phrase."""
    if not reason:
        return False, None
    words = _words(reason)
    match = WAITING.search(words)
    if not match:
        return False, None
    rest = words[match.start(2) - 1 :]
    found = [(rest.find(f" {name} "), code) for name, code in agencies.items()]
    found = [(i, code) for i, code in found if i >= 0]
    return True, (min(found)[1] if found else None)
