"""Legacy encodings, sheet cells and legacy codes: the parsing the importers rely on."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.ingest import encodings
from geo.ingest.indicators import parse_period
from geo.ingest.sheets import CellError, normalise_code, parse_date, parse_number, read_sheet
from geo.official import legacy_communes, legacy_provinces, map_code, split_kind
from tests.import_fixtures import write_csv, write_xlsx

NAMES = ["Hà Nội", "Thừa Thiên Huế", "Đắk Lắk", "Nghệ An", "Cà Mau", "Phường Trường Sa",
         "Khuyến Lương", "Thủy Nguyên", "Hòa Bình", "Quỳnh Lưu", "Ứng Hòa"]  # fmt: skip


def test_tcvn3_bytes_are_the_known_ones_and_round_trip():
    assert encodings.encode_tcvn3("Hà Nội") == b"H\xb5 N\xe9i"  # "Hµ Néi" in Latin-1
    for name in NAMES[:-1]:  # TCVN3 has no toned capitals ("Ứ"): old files write "øng"
        assert encodings.decode_tcvn3(encodings.encode_tcvn3(name)) == name


def test_vni_bytes_are_the_known_ones_and_round_trip():
    assert encodings.encode_vni("Trường").decode("latin-1") == "Tröôøng"
    assert encodings.encode_vni("Thị xã").decode("latin-1") == "Thò xaõ"
    for name in NAMES:
        assert encodings.decode_vni(encodings.encode_vni(name)) == name


@pytest.mark.parametrize(
    "encoding, encode",
    [
        ("tcvn3", encodings.encode_tcvn3),
        ("vni", encodings.encode_vni),
        ("cp1258", encodings.encode_cp1258),
        ("utf-8", str.encode),
    ],
)
def test_detection_picks_the_encoding_that_reads_as_vietnamese(encoding, encode):
    raw = [encode(n) for n in (NAMES[:-1] if encoding == "tcvn3" else NAMES)]
    found = encodings.detect(raw)
    assert found.encoding == encoding
    assert found.confirmed and found.score > 0.9


def test_detection_is_confirmed_against_official_names():
    official = {n.lower() for n in NAMES}
    raw = [encodings.encode_tcvn3(n) for n in NAMES[:5]]
    found = encodings.detect(raw, official=official, key=str.lower)
    assert found.encoding == "tcvn3" and found.matched == 1.0 and found.confirmed


def test_garbage_is_not_confirmed():
    found = encodings.detect([b"\x8f\x90\x91 \x92\x93", b"\xa0\xa1\xff\xfe"])
    assert not found.confirmed


@pytest.mark.parametrize("value", [70, "70", "00070", " 00070", "70.0", 70.0, "'00070", "000070"])
def test_codes_as_they_arrive_are_normalised(value):
    assert normalise_code(value, 5) == "00070"


@pytest.mark.parametrize("value", ["7O", "70.5", 70.5, "1234567", "", "abc"])
def test_bad_codes_are_refused(value):
    with pytest.raises(CellError):
        normalise_code(value, 5)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("30/09/2025", dt.date(2025, 9, 30)),
        ("1/7/2025", dt.date(2025, 7, 1)),
        ("30-09-2025", dt.date(2025, 9, 30)),
        ("30.09.2025", dt.date(2025, 9, 30)),
        ("2025-09-30", dt.date(2025, 9, 30)),
        ("2025-09-30T00:00:00", dt.date(2025, 9, 30)),
        (dt.datetime(2025, 9, 30, 0, 0), dt.date(2025, 9, 30)),
        (45930, dt.date(2025, 9, 30)),  # an Excel serial day in a General cell
        ("", None),
        (None, None),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["09/30/2025", "31/02/2025", "next week", "2025"])
def test_bad_dates_say_why(value):
    with pytest.raises(CellError) as err:
        parse_date(value)
    assert "date" in str(err.value)


@pytest.mark.parametrize(
    "value, expected",
    [("74,5", 74.5), ("74.5", 74.5), ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("74%", 74.0)],
)
def test_numbers_with_vietnamese_decimal_comma(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("2025-Q3", "2025-Q3"), ("Q3/2025", "2025-Q3"), ("Quý III/2025", "2025-Q3"),
     ("quý 3 năm 2025", "2025-Q3"), ("2025", "2025"), ("09/2025", "2025-09")],
)  # fmt: skip
def test_periods(value, expected):
    assert parse_period(value) == expected


def test_kind_prefix_is_split_and_tone_placement_normalised():
    assert split_kind("Xã Hoà Bình") == ("Xã", "Hòa Bình")
    assert split_kind("TP. Hồ Chí Minh") == ("Thành phố", "Hồ Chí Minh")
    assert split_kind("Cà Mau") == (None, "Cà Mau")
    assert split_kind("Phương Bình") == (None, "Phương Bình")  # a name, not "Phường Bình"
    assert split_kind("Xã Xà Phiên") == ("Xã", "Xà Phiên")


def test_legacy_codes_map_merged_and_split_communes():
    merged = map_code("00001", "commune")  # Phường Phúc Xá (Ba Đình, Hà Nội) → Hồng Hà
    assert merged.new_codes == ("00097",) and not merged.ambiguous
    assert "Phúc Xá" in merged.legacy_name
    split = map_code("31268", "commune")  # Xã Tân Thạnh (Thới Lai, Cần Thơ), split in two
    assert split.ambiguous and len(split.new_codes) == 2
    assert len(legacy_communes()) > 10_000
    assert legacy_provinces()["93"][0] == "92"  # Hậu Giang → Cần Thơ


def test_sheets_find_the_header_below_a_title_and_keep_row_numbers(tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        ["Mã nhiệm vụ", "Tên nhiệm vụ"],
        [["A-1", "Một"], [None, None], ["A-2", "Hai"]],
        title="DANH SÁCH NHIỆM VỤ NĂM 2025",
    )
    sheet = read_sheet(path, ["Mã nhiệm vụ", "Tên nhiệm vụ"])
    assert sheet.headers == ["Mã nhiệm vụ", "Tên nhiệm vụ"]
    assert [n for n, _ in sheet.rows] == [3, 5]  # Excel row numbers, blank row skipped


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1258"])
def test_csv_encodings(tmp_path, encoding):
    path = write_csv(
        tmp_path / "t.csv", ["Mã nhiệm vụ", "Tên nhiệm vụ"], [["X", "Nghệ An"]], encoding
    )
    sheet = read_sheet(path, ["Mã nhiệm vụ"])
    assert sheet.headers[0] == "Mã nhiệm vụ"
    assert sheet.rows[0][1]["Tên nhiệm vụ"] == "Nghệ An"
