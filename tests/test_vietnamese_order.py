"""Names sort in Vietnamese alphabetical order (a ă â b c d đ e …), not by code point:
sortby=name on the provinces puts Đà Nẵng … Đồng Tháp between Cần Thơ and Gia Lai."""

from __future__ import annotations


def _names(client, url: str) -> list[str]:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return [f["properties"]["name"] for f in r.json()["features"]]


def test_sortby_name_on_the_provinces_is_vietnamese_order(client):
    names = _names(client, "/ogc/collections/provinces/items?sortby=name&limit=50")
    d = names.index("Cần Thơ")
    assert names[d + 1 : d + 6] == ["Đà Nẵng", "Đắk Lắk", "Điện Biên", "Đồng Nai", "Đồng Tháp"]
    assert names[d + 6] == "Gia Lai"
    assert names.index("Cà Mau") < names.index("Cao Bằng") < names.index("Cần Thơ")
    api = _names(client, "/api/v1/provinces?sortby=-name")
    assert api == list(reversed(names))


def test_communes_starting_with_u_horn_and_o_horn_and_a_circumflex(client):
    names = _names(client, "/api/v1/communes?sortby=name&limit=5000&fields=name")
    firsts = [n[0] for n in names]
    # A before Ă before Â before B; O before Ô before Ơ before P; U before Ư before V
    order = "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
    seen = [c for c in dict.fromkeys(firsts) if c in order]
    assert seen == sorted(seen, key=order.index)
    assert "Ư" in seen and "Ơ" in seen or "Â" in seen
