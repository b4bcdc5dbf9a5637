"""``GET /api/v1/explain?f=xlsx``: every task behind a figure in a spreadsheet an office can
file — the same tasks as the API's pages, each with its source file, SHA-256 and row."""

from __future__ import annotations

import io

import pytest


def _pages(client, params: dict) -> list[dict]:
    items, offset = [], 0
    while True:
        page = client.get(
            "/api/v1/explain", params={**params, "limit": 1000, "offset": offset}
        ).json()
        items += page["items"]
        offset += 1000
        if offset >= page["numberMatched"]:
            return items


def test_the_spreadsheet_holds_every_task_of_the_figure_with_its_source(client):
    from openpyxl import load_workbook

    params = {"measure": "tasks_completed", "unit": "national"}
    figure = client.get("/api/v1/explain", params=params).json()
    assert figure["value"] > 1000  # more than one page of the API
    r = client.get("/api/v1/explain", params={**params, "f": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    sheet = wb["Số liệu và nguồn"]
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == figure["value"]
    for label in ("Mã nhiệm vụ", "Tên nhiệm vụ", "Tên đơn vị", "Tệp nguồn", "SHA-256 của tệp",
                  "Dòng trong tệp"):  # fmt: skip
        assert label in header
    names = {row[header.index("Tên đơn vị")] for row in data}
    assert None not in names and len(names) > 30  # every row says whose task it is, by name
    col = header.index("Mã nhiệm vụ")
    expected = {i["external_id"] for i in _pages(client, params)}
    assert {row[col] for row in data} == expected
    info = {row[2]: row[1] for row in wb["Thông tin"].iter_rows(values_only=True) if row[2]}
    assert str(figure["value"]) in info["title"] and info["as_of"] == figure["as_of"]


def test_a_bad_format_is_a_422_naming_it(client):
    r = client.get("/api/v1/explain", params={"measure": "tasks_total", "unit": "01", "f": "pdf"})
    assert r.status_code == 422 and "f" in r.text


@pytest.mark.parametrize("path", ["/", "/p/40"])
def test_the_maps_headline_opens_its_tasks_page_with_the_same_count(client, path):
    """The headline's "N/M nhiệm vụ hoàn thành" links to the page of those N tasks (same N),
    paged, with their sources and a link to the whole list as XLSX."""
    import re
    from html import unescape

    page = client.get(path).text
    link = re.search(r'id="ioc-headline" href="([^"]+)"[^>]*>([^<]+)<', page)
    assert link, "the headline is a link"
    href, headline = unescape(link.group(1)), link.group(2)
    done = headline.split("/")[0].strip()
    html = client.get(href)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    figure = re.search(r'id="explain-figure" class="figure"><b class="num">([^<]+)</b>', html.text)
    assert figure and figure.group(1) == done
    body = html.text
    if path == "/p/40":  # the scope and every row name the unit, not only its code
        scope = re.search(r'id="explain-figure"[^>]*>.*?</p>', body, re.S).group(0)
        assert "Nghệ An (40)" in scope
    names = re.findall(r"<td>([^<]*) \((\d{2}|\d{5})\)</td>", body)
    assert names and all(name.strip() for name, _ in names), "each row names its unit"
    assert body.count("<tr>") - 1 == min(100, int(done.replace(".", "")))  # one page + header
    xlsx = unescape(re.search(r'id="explain-xlsx" href="([^"]+)"', body).group(1))
    assert "f=xlsx" in xlsx and "offset" not in xlsx
    nxt = re.search(r'rel="next" href="([^"]+)"', body)
    if int(done.replace(".", "")) > 100:
        second = client.get(unescape(nxt.group(1))).text
        assert "Dòng 101–" in second


@pytest.mark.parametrize("path", ["/wall", "/wall/66", "/wall/66?as_of=2025-09-30&lang=en"])
@pytest.mark.parametrize("kpi", ["done", "overdue"])
def test_the_walls_kpis_open_their_tasks_page_with_the_same_count(client, path, kpi):
    """The wall's "N đã hoàn thành" and its overdue count link to the page of those tasks
    (the same N, on the wall's basis: its unit, year and day), without taking the
    unattended wall's focus (tabindex -1)."""
    import re
    from html import unescape

    page = client.get(path).text
    link = re.search(
        rf'<a class="kpi-link" id="kpi-{kpi}-link" href="([^"]+)" tabindex="-1">'
        rf'<span(?: class="num")? id="kpi-{kpi}">([^<]+)<',
        page,
    )
    assert link, f"the wall's {kpi} figure is a link"
    href, shown = unescape(link.group(1)), link.group(2)
    assert ("unit=66" in href) == ("/66" in path)
    if "as_of" in path:
        assert "as_of=2025-09-30" in href and "lang=en" in href
    html = client.get(href)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    figure = re.search(r'id="explain-figure" class="figure"><b class="num">([^<]+)</b>', html.text)
    assert figure and figure.group(1) == shown


def test_the_national_pages_agency_overdue_counts_open_their_tasks(client):
    """The national page's central block: each agency's overdue count links to those tasks
    (NQ57 of the page's year, as the row counts them), the same number."""
    import re
    from html import unescape

    page = client.get("/").text
    links = re.findall(
        r'<tr data-agency="([^"]+)">.*?<a class="explain-link" href="([^"]+)">([^<]+)</a>', page
    )
    assert links, "the agencies' overdue counts are links"
    for code, href, shown in links[:3]:
        href = unescape(href)
        assert f"unit={code}" in href and "measure=tasks_overdue" in href
        html = client.get(href).text
        figure = re.search(r'id="explain-figure" class="figure"><b class="num">([^<]+)</b>', html)
        assert figure and figure.group(1) == shown, code
