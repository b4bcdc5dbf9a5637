"""Vietnamese text: one NFC form, one tone placement, diacritic-free search keys."""

import unicodedata

import pytest

from geo.text import normalise_name, search_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hoà Bình", "Hòa Bình"),
        ("Thuỷ Nguyên", "Thủy Nguyên"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Quý Châu", "Quý Châu"),  # "qu" keeps the tone on y
        ("Hoàng Sa", "Hoàng Sa"),  # closed syllable: unchanged
        (unicodedata.normalize("NFD", "Cà Mau"), "Cà Mau"),
        ("  Đắk   Lắk ", "Đắk Lắk"),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Cà Mau", "ca mau"),
        ("Đắk Lắk", "dak lak"),
        ("ĐÀ NẴNG", "da nang"),
        ("Hoà Bình", "hoa binh"),
    ],
)
def test_search_key(raw, key):
    assert search_key(raw) == key
