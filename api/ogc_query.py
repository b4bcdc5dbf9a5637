"""The query parameters of OGC items beyond Part 1: ``filter`` (Part 3, CQL2 text/JSON),
``sortby``, ``properties`` and ``datetime`` — parsed and checked here, each failure a 400
naming the parameter, before any database work; the SQL comes from ``geo.read``.

Why apart from ``api/routers/ogc.py``: the routes stay a list of parameters and a cached
build; the rules (what a sort key may be, which datetime forms exist, which filter
languages are spoken — ``cql-text`` too, the name GDAL 3.6's OAPIF driver sends) live here,
shared by the OGC items and the ``/api/v1`` layers (``sortby``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from api.errors import BadParameter
from api.params import in_calendar, parse_list
from geo.read.cql2 import FilterError, compile_filter, iso_day, parse_filter
from geo.read.features import UnitFilter, property_sql

FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")  # cql-text: GDAL < 3.7 sends it
MAX_SORT_KEYS = 5


def unit_filter(
    raw: str | None,
    lang: str | None,
    level: str,
    indicators: Iterable[str],
    filter_srid: int = 4326,
    flip: bool = False,
) -> UnitFilter | None:
    """The compiled ``filter`` (None when absent); any problem is a 400 on ``filter``."""
    if raw is None:
        return None
    if lang is not None and lang not in FILTER_LANGS:
        raise BadParameter(
            "filter-lang", f"filter-lang '{lang}' is not supported; use cql2-text or cql2-json"
        )
    if not raw.strip():
        raise BadParameter("filter", "filter is empty")
    try:
        tree = parse_filter(raw, "cql2-text" if lang == "cql-text" else lang)
        return compile_filter(tree, level, set(indicators), filter_srid, flip)
    except FilterError as exc:
        raise BadParameter("filter", f"filter: {exc}") from None


def sort_keys(
    raw: str | None, level: str, indicators: Iterable[str]
) -> tuple[tuple[str, bool], ...]:
    """``sortby=+a,-b`` as ((name, descending), …); names must be sortable properties."""
    names = parse_list(raw)
    if not names:
        if raw is not None:
            raise BadParameter("sortby", "sortby is empty")
        return ()
    if len(names) > MAX_SORT_KEYS:
        raise BadParameter("sortby", f"sortby takes at most {MAX_SORT_KEYS} keys")
    codes = list(indicators)
    out = []
    for item in names:
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()  # a '+' may arrive as a space from a raw URL
        found = property_sql(name, level, codes)
        if found is None or found[1] == "object":
            raise BadParameter("sortby", f"sortby: unknown or unsortable property '{name}'")
        out.append((name, desc))
    return tuple(out)


def _day(text: str) -> dt.date:
    day = iso_day(text)
    if day is None:
        raise BadParameter(
            "datetime",
            f"datetime '{text}' is not an RFC 3339 date or date-time "
            "(forms: 2025-07-01, 2025-07-01T00:00:00Z, a/b, ../b, a/..)",
        )
    try:
        return in_calendar(day) or day
    except ValueError as exc:
        raise BadParameter("datetime", str(exc)) from None


def valid_interval(raw: str | None) -> tuple[dt.date | None, dt.date | None] | None:
    """``datetime`` (instant or interval, ``..`` open) as (start, end) days, None absent."""
    if raw is None:
        return None
    if "/" in raw:
        a, _, b = raw.partition("/")
        start = None if a in ("", "..") else _day(a)
        end = None if b in ("", "..") else _day(b)
        if start is not None and end is not None and start > end:
            raise BadParameter("datetime", "datetime interval start is after its end")
        return start, end
    day = _day(raw)
    return day, day
