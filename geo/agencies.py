"""Ministries and central bodies: the non-territorial holders of Resolution 57 tasks.

Code scheme (why letters): the bodies' own abbreviations as they appear in their document
numbers ("1709/BKHCN-CĐSQG" → ``BKHCN``), upper-case ASCII with Đ written D, 2–16
letters. Letters keep them apart from unit codes (2 or 5 digits), so a task sheet's unit
column can hold either and a token scope ``agency:BKHCN`` cannot be mistaken for a place.
The list is the government's structure from 1 March 2025 (14 ministries, 3 ministry-level
bodies, and the government agencies that hold Resolution 57 tasks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.text import search_key

CODE_RE = re.compile(r"^[A-Z]{2,16}$")


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    name: str
    name_en: str
    kind: str  # Bộ | Cơ quan ngang bộ | Cơ quan thuộc Chính phủ


_B, _NB, _CP = "Bộ", "Cơ quan ngang bộ", "Cơ quan thuộc Chính phủ"
AGENCIES: tuple[AgencyInfo, ...] = (
    AgencyInfo("BQP", "Bộ Quốc phòng", "Ministry of National Defence", _B),
    AgencyInfo("BCA", "Bộ Công an", "Ministry of Public Security", _B),
    AgencyInfo("BNG", "Bộ Ngoại giao", "Ministry of Foreign Affairs", _B),
    AgencyInfo("BNV", "Bộ Nội vụ", "Ministry of Home Affairs", _B),
    AgencyInfo("BTP", "Bộ Tư pháp", "Ministry of Justice", _B),
    AgencyInfo("BTC", "Bộ Tài chính", "Ministry of Finance", _B),
    AgencyInfo("BCT", "Bộ Công Thương", "Ministry of Industry and Trade", _B),
    AgencyInfo(
        "BNNMT", "Bộ Nông nghiệp và Môi trường", "Ministry of Agriculture and Environment", _B
    ),
    AgencyInfo("BXD", "Bộ Xây dựng", "Ministry of Construction", _B),
    AgencyInfo(
        "BVHTTDL",
        "Bộ Văn hóa, Thể thao và Du lịch",
        "Ministry of Culture, Sports and Tourism",
        _B,
    ),
    AgencyInfo("BKHCN", "Bộ Khoa học và Công nghệ", "Ministry of Science and Technology", _B),
    AgencyInfo("BGDDT", "Bộ Giáo dục và Đào tạo", "Ministry of Education and Training", _B),
    AgencyInfo("BYT", "Bộ Y tế", "Ministry of Health", _B),
    AgencyInfo("BDTTG", "Bộ Dân tộc và Tôn giáo", "Ministry of Ethnic and Religious Affairs", _B),
    AgencyInfo("NHNN", "Ngân hàng Nhà nước Việt Nam", "State Bank of Vietnam", _NB),
    AgencyInfo("TTCP", "Thanh tra Chính phủ", "Government Inspectorate", _NB),
    AgencyInfo("VPCP", "Văn phòng Chính phủ", "Office of the Government", _NB),
    AgencyInfo("DTHVN", "Đài Truyền hình Việt Nam", "Vietnam Television", _CP),
    AgencyInfo("DTNVN", "Đài Tiếng nói Việt Nam", "Voice of Vietnam", _CP),
    AgencyInfo("TTXVN", "Thông tấn xã Việt Nam", "Vietnam News Agency", _CP),
    AgencyInfo(
        "VHLKHCN",
        "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
        "Vietnam Academy of Science and Technology",
        _CP,
    ),
    AgencyInfo(
        "VHLKHXH",
        "Viện Hàn lâm Khoa học xã hội Việt Nam",
        "Vietnam Academy of Social Sciences",
        _CP,
    ),
)


def is_agency_code(value: str) -> bool:
    """A cell or path value shaped like an agency code (letters, not digits)."""
    return bool(CODE_RE.fullmatch(value))


def agency_rows() -> list[dict]:
    """Rows for the ``agency`` table."""
    return [
        {
            "code": a.code,
            "name": a.name,
            "name_en": a.name_en,
            "kind": a.kind,
            "name_key": search_key(a.name),
            "sort_order": i,
        }
        for i, a in enumerate(AGENCIES, start=1)
    ]
