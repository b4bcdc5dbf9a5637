"""The HTML of the OGC collections and their items (``f=html`` or a browser's Accept):
a small map and an attribute table, in Vietnamese first, from our own files only.

Why a template and a script file rather than the plain JSON dump: analysts open the
/ogc links in a browser first; a map of what the page holds and a table of its
attributes answer "is this the layer I want" before QGIS is opened. The page runs no
inline script (the strict CSP of ``api/csp.py``): the map (``js/ioc-ogc.js``) reads the
embedded JSON config and fetches the same page as GeoJSON, which the response cache
already holds or builds once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from maps.assets_local import served_static
from maps.render import config_script, render_template
from maps.theme import fmt_number

MAX_CELL = 120  # characters of a cell (source_attributes and long texts are cut)


def with_query(href: str, drop: tuple[str, ...] = (), **set_: str) -> str:
    """``href`` with query parameters dropped and set (order kept, f last)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in drop and k not in set_]  # fmt: skip
    query += list(set_.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def as_html(href: str) -> str:
    return with_query(href, f="html")


def cell(value: Any) -> tuple[str, bool]:
    """(text, is a number) of one attribute as a Vietnamese reader writes it."""
    if value is None:
        return "—", False
    if isinstance(value, bool):
        return ("có" if value else "không"), False
    if isinstance(value, int):
        return fmt_number(value, 0), True
    if isinstance(value, float):
        decimals = min(len(repr(value).partition(".")[2].rstrip("0")), 6)
        return fmt_number(value, decimals), True
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return (text[: MAX_CELL - 1] + "…" if len(text) > MAX_CELL else text), False


def _page(**context: Any) -> bytes:
    cfg = context.pop("cfg")
    return render_template(
        "ogc_page.html", static=served_static(), config=config_script(cfg), **context
    ).encode()


def _links(links: list[dict]) -> list[dict]:
    return [
        {"href": link["href"], "rel": link.get("rel"), "title": link.get("title") or link["rel"],
         "type": link.get("type", "")}
        for link in links
    ]  # fmt: skip


def collection_page(doc: dict, properties: dict[str, dict], root: str) -> bytes:
    """A collection: description, its extent on the map, its properties, its links."""
    cid = doc["id"]
    items = f"{root}/collections/{cid}/items"
    bbox = doc["extent"]["spatial"]["bbox"][0]
    rows = [
        {"id": None, "href": None,
         "cells": [(name, False), (p.get("type", ""), False), (p.get("title", ""), False)]}
        for name, p in properties.items()
    ]  # fmt: skip
    links = [
        {"href": as_html(items), "rel": "items", "title": "Các đối tượng (items) — bảng và bản đồ",
         "type": "text/html"},
        *_links(doc["links"]),
    ]  # fmt: skip
    return _page(
        title=doc["title"],
        description=doc.get("description"),
        summary=f"Phạm vi (extent): {', '.join(fmt_number(v, 4) for v in bbox)} · "
        f"{len(doc.get('crs', []))} hệ tọa độ (CRS)",
        crumbs=[
            ("OGC API", as_html(root)),
            ("Bộ sưu tập (collections)", as_html(f"{root}/collections")),
        ],
        map_label=f"Phạm vi của {doc['title']} (extent)",
        pager=[("Xem các đối tượng (items)", as_html(items), "items")],
        table_title="Thuộc tính (properties)",
        columns=[("Tên (name)", None), ("Kiểu (type)", None), ("Mô tả (title)", None)],
        rows=rows,
        links=links,
        cfg={"lang": "vi", "bbox": bbox, "geojson": None},
    )


def item_page(
    feature: dict, self_href: str, root: str, cid: str, title: str, bbox: list[float]
) -> bytes:
    """One item: the feature on the map and its attributes (a page of one)."""
    doc = {
        "type": "FeatureCollection",
        "features": [feature],
        "numberMatched": 1,
        "numberReturned": 1,
        "links": [],
    }
    name = (feature.get("properties") or {}).get("full_name") or feature.get("id")
    return items_page(doc, self_href, root, cid, title, bbox, f"{title} — {name}",
                      feature.get("links", []))  # fmt: skip


def items_page(
    doc: dict,
    self_href: str,
    root: str,
    cid: str,
    title: str,
    bbox: list[float],
    heading: str | None = None,
    more_links: list[dict] | None = None,
) -> bytes:
    """A page of items: the features on the map, their attributes in a table, paging."""
    features = doc.get("features", [])
    names: list[str] = []
    for f in features:
        for k in f.get("properties") or {}:
            if k not in names:
                names.append(k)
    rows = []
    for f in features:
        props = f.get("properties") or {}
        fid = str(f.get("id"))
        rows.append(
            {"id": fid, "href": as_html(f"{root}/collections/{cid}/items/{fid}"),
             "cells": [(fid, False), *(cell(props.get(n)) for n in names)]}
        )  # fmt: skip
    offset = int(dict(parse_qsl(urlsplit(self_href).query)).get("offset", 0) or 0)
    matched, returned = doc.get("numberMatched"), doc.get("numberReturned", len(features))
    if returned:
        shown = f"{fmt_number(offset + 1, 0)}–{fmt_number(offset + returned, 0)}"
        summary = f"Đối tượng {shown} trong {fmt_number(matched, 0)} (features)"
    else:
        summary = f"Không có đối tượng nào ở trang này; tổng {fmt_number(matched, 0)} (no features)"
    pager = []
    for link in doc.get("links", []):
        if link.get("rel") == "prev":
            pager.append(("← Trang trước (previous)", as_html(link["href"]), "prev"))
    for link in doc.get("links", []):
        if link.get("rel") == "next":
            pager.append(("Trang sau (next) →", as_html(link["href"]), "next"))
    # relative: the map fetches from the origin the page came from (same as its CSP)
    geojson = urlunsplit(
        urlsplit(with_query(self_href, drop=("f", "crs")))._replace(scheme="", netloc="")
    )
    links = [
        {"href": geojson, "rel": "alternate", "title": "GeoJSON", "type": "application/geo+json"},
        {"href": with_query(self_href, drop=("crs",), f="csv"), "rel": "alternate",
         "title": "CSV", "type": "text/csv"},
        {"href": with_query(self_href, drop=("crs",), f="geojsonseq"), "rel": "alternate",
         "title": "GeoJSON Text Sequences", "type": "application/geo+json-seq"},
    ]  # fmt: skip
    links += _links([x for x in more_links or [] if x.get("rel") != "self"])
    return _page(
        title=heading or f"{title} — các đối tượng (items)",
        description=None,
        summary=summary,
        crumbs=[
            ("OGC API", as_html(root)),
            ("Bộ sưu tập (collections)", as_html(f"{root}/collections")),
            (title, as_html(f"{root}/collections/{cid}")),
        ],
        map_label=f"Bản đồ {returned} đối tượng của trang này (map of the page's features)",
        pager=pager,
        table_title="Bảng thuộc tính (attributes)",
        columns=[("id", "mã (code)"), *((n, None) for n in names)],
        rows=rows,
        links=links,
        cfg={"lang": "vi", "bbox": bbox, "geojson": geojson},
    )
