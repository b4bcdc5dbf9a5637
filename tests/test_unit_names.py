"""The one rule that shortens unit names on the wall (maps/unit_names.py)."""

import unicodedata

import pytest

from maps.unit_names import short_name


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"),
        ("Thành phố Hà Nội", "TP. Hà Nội"),
        ("Tỉnh Thanh Hóa", "Thanh Hóa"),
        ("Phường Ba Đình", "P. Ba Đình"),
        ("Thị trấn Cát Bà", "TT. Cát Bà"),
        ("Xã Tà Hine", "Xã Tà Hine"),
        ("Đặc khu Phú Quốc", "Đặc khu Phú Quốc"),
        ("Bộ Quốc phòng", "Bộ Quốc phòng"),
        ("Tỉnh", "Tỉnh"),  # nothing after the kind: kept whole
        ("", ""),
    ],
)
def test_short_name(full, short):
    assert short_name(full) == short


def test_short_name_normalises_decomposed_text():
    assert short_name(unicodedata.normalize("NFD", "Tỉnh Đắk Lắk")) == "Đắk Lắk"
