"""CQL2 filters (OGC API – Features Part 3) as parameterised SQL over the unit layers.

Why here: a filter is part of a read of the units, like ``bbox`` or ``status``; the router
only hands over the text or JSON. Parsing is pygeofilter's (the parser pygeoapi uses:
CQL2 text through its lark grammar, CQL2 JSON by walking the document); this module only
translates the resulting AST, through pygeofilter's ``Evaluator`` extension point, into a
WHERE fragment whose every value is a bound parameter and whose every column comes from
the fixed expressions of ``geo.read.features`` (``property_sql``). Anything else — an
unknown property, a type mismatch (``name > 5``), a function or an operator we do not
translate, an invalid geometry, an oversized filter — is a ``FilterError`` naming it,
which the API answers with a 400.

Why one module (over 400 lines): the standard's encodings (``standard_json``, the ``''``
escape), the arity of each operator and their translation to SQL must agree; split apart,
a form accepted by the parser reached the evaluator in a shape it did not expect.

Supported: basic CQL2 (comparisons, AND/OR/NOT, IS NULL), advanced comparison (LIKE,
BETWEEN, IN, CASEI), basic spatial plus the other simple spatial predicates
(S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS,
S_EQUALS) on ``geometry``. Not translated (a 400 says so): arithmetic, temporal (T_*)
and array (A_*) predicates, S_DWITHIN/BEYOND/RELATE.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

from geo.read.features import UnitFilter, property_sql

MAX_NODES = 200  # AST nodes (predicates, values, attributes)
MAX_DEPTH = 30  # nesting of the JSON document
MAX_VERTICES = 10_000  # of a filter geometry
GEOMETRY_NAMES = ("geometry", "geom")
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
_COMPARE = {
    ast.ComparisonOp.EQ: "=",
    ast.ComparisonOp.NE: "<>",
    ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=",
    ast.ComparisonOp.GT: ">",
    ast.ComparisonOp.GE: ">=",
}
NUMERIC = ("integer", "number")


class FilterError(ValueError):
    """A filter we cannot run, with the reason a client can act on."""


@dataclass(frozen=True)
class Expr:
    """An SQL expression and its JSON-Schema type (``condition`` for predicates)."""

    sql: str
    kind: str
    literal: bool = False
    value: Any = None  # the Python value of a text literal (checked before it is cast)


def parse_filter(raw: str, lang: str | None) -> ast.Node:
    """The pygeofilter AST of a CQL2 text or JSON filter (``lang`` None = guess by the
    first character, as pygeoapi does: ``{`` is JSON)."""
    lang = lang or ("cql2-json" if raw.lstrip().startswith("{") else "cql2-text")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise FilterError(f"filter is not valid JSON: {exc}") from None
            return parse_json(standard_json(_bbox_as_polygon(doc, 0)))
        if lang == "cql2-text":
            from pygeofilter.parsers.cql2_text import parse as parse_text

            return parse_text(hide_quote_escapes(raw))
    except FilterError:
        raise
    except RecursionError:
        raise FilterError("filter is nested too deeply") from None
    except Exception as exc:  # lark and the JSON walker raise many kinds; all mean "bad"
        if lang == "cql2-json":  # the walker's messages are Python's, not the user's
            raise FilterError(
                "cannot read the cql2-json filter: check each operator's arguments"
                " (see the CQL2 standard's JSON encoding)"
            ) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"cannot parse the {lang} filter: {first[:300]}") from None
    raise FilterError(f"filter-lang '{lang}' is not supported; use cql2-text or cql2-json")


# A quote written twice inside a CQL2 text literal ('O''Brien', the standard's escape):
# pygeofilter's grammar ends a literal at the first quote, so the pair is hidden as a
# private-use character while parsing and turned back into one quote when bound.
QUOTE_MARK = "\ue000"
# cql2-json operators and how many arguments each takes (None: two or more)
JSON_ARITY: dict[str, int | None] = {
    **dict.fromkeys(("=", "<>", "<", "<=", ">", ">=", "like", "in"), 2),
    **dict.fromkeys(("not", "isNull", "casei", "accenti"), 1),
    **dict.fromkeys(("and", "or"), None),
    **dict.fromkeys(
        (
            "s_intersects",
            "s_contains",
            "s_within",
            "s_disjoint",
            "s_equals",
            "s_touches",
            "s_overlaps",
            "s_crosses",
        ),
        2,
    ),  # fmt: skip
}


def warm_filter_parsers() -> None:
    """Load both CQL2 parsers (and the grammar lark builds) before the first request."""
    parse_filter("code = '01' AND valid_from < DATE('2025-07-01')", "cql2-text")
    parse_filter('{"op": "=", "args": [{"property": "code"}, "01"]}', "cql2-json")


def hide_quote_escapes(text: str) -> str:
    """``''`` inside a quoted literal → ``QUOTE_MARK`` (outside literals text is kept)."""
    if QUOTE_MARK in text:
        raise FilterError("the filter contains a private-use character U+E000")
    out, inside, i = [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            if inside and text[i + 1 : i + 2] == "'":
                out.append(QUOTE_MARK)
                i += 2
                continue
            inside = not inside
        out.append(ch)
        i += 1
    return "".join(out)


def standard_json(doc: Any, depth: int = 0) -> Any:
    """The CQL2 standard's JSON forms as pygeofilter reads them, each operator checked:
    ``between`` with three arguments (property, low, high) becomes the draft's
    ``[property, [low, high]]``; a wrong number of arguments names the operator."""
    if depth > MAX_DEPTH:
        raise FilterError(f"filter is nested deeper than {MAX_DEPTH} levels")
    if isinstance(doc, list):
        return [standard_json(x, depth + 1) for x in doc]
    if not isinstance(doc, dict):
        return doc
    if "op" in doc:
        op, args = doc.get("op"), doc.get("args")
        if not isinstance(op, str) or not isinstance(args, list):
            raise FilterError('each cql2-json operation needs "op" (a name) and "args" (a list)')
        if op == "between":
            if len(args) == 3:
                args = [args[0], [args[1], args[2]]]
            elif not (len(args) == 2 and isinstance(args[1], list) and len(args[1]) == 2):
                raise FilterError("operator 'between' takes a property and two values")
        elif op in JSON_ARITY:
            want = JSON_ARITY[op]
            if (want is None and len(args) < 2) or (want is not None and len(args) != want):
                need = "two or more" if want is None else str(want)
                raise FilterError(f"operator '{op}' takes {need} argument(s), got {len(args)}")
        return {**doc, "args": standard_json(args, depth + 1)}
    return {k: standard_json(v, depth + 1) for k, v in doc.items()}


def _unquote(text: str) -> str:
    return text.replace(QUOTE_MARK, "'")


def _bbox_as_polygon(doc: Any, depth: int) -> Any:
    """``{"bbox": [minx, miny, maxx, maxy]}`` as a GeoJSON polygon (pygeofilter reads the
    four numbers into its Envelope in x1, x2, y1, y2 order, i.e. with miny as maxx)."""
    if depth > MAX_DEPTH:
        raise FilterError(f"filter is nested deeper than {MAX_DEPTH} levels")
    if isinstance(doc, list):
        return [_bbox_as_polygon(x, depth + 1) for x in doc]
    if not isinstance(doc, dict):
        return doc
    if set(doc) == {"bbox"}:
        box = doc["bbox"]
        if not (isinstance(box, list) and len(box) in (4, 6)):
            raise FilterError("a bbox in the filter needs 4 numbers")
        if len(box) == 6:
            box = [box[0], box[1], box[3], box[4]]
        x0, y0, x1, y1 = box
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        return {"type": "Polygon", "coordinates": [ring]}
    return {k: _bbox_as_polygon(v, depth + 1) for k, v in doc.items()}


def count_nodes(node: Any) -> int:
    """AST size, so a filter of thousands of ORs is refused before any SQL is made."""
    subs = node.get_sub_nodes() if hasattr(node, "get_sub_nodes") else None
    if subs is None:
        return 1
    if not isinstance(subs, list):
        subs = [subs]
    return 1 + sum(count_nodes(s) for s in subs)


class _SqlEvaluator(Evaluator):
    """Bottom-up translation: each handler gets its children already as ``Expr``."""

    def __init__(self, level: str, indicators: set[str], filter_srid: int, flip: bool) -> None:
        self.level = level
        self.indicators = indicators
        self.filter_srid = filter_srid
        self.flip = flip
        self.params: dict[str, Any] = {}
        self.groups: set[str] = set()
        self.used_indicators: list[str] = []

    def bind(self, value: Any, kind: str) -> Expr:
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL text cannot hold NUL: refused here, not by the driver (a 500)
            raise FilterError("a text in the filter contains a NUL character (\\u0000)")
        name = f"cq{len(self.params)}"
        self.params[name] = value
        casts = {"integer": "float8", "number": "float8", "string": "text", "date": "date"}
        return Expr(f"cast(:{name} as {casts.get(kind, 'text')})", kind, True, value)

    # --- values -------------------------------------------------------------------------
    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Expr:
        if node.name in GEOMETRY_NAMES:
            return Expr("u.geom", "geometry")
        found = property_sql(node.name, self.level, self.indicators)
        if found is None:
            raise FilterError(f"unknown property '{node.name}' in the filter (see the queryables)")
        sql, kind, groups = found
        self.groups |= groups
        if "iv" in groups and node.name.removesuffix("_rank") not in self.used_indicators:
            self.used_indicators.append(node.name.removesuffix("_rank"))
        return Expr(sql, kind)

    @handle(str)
    def string(self, node: str) -> Expr:
        return self.bind(_unquote(node), "string")

    @handle(bool)
    def boolean(self, node: bool) -> Expr:
        return Expr("true" if node else "false", "boolean", literal=True)

    @handle(int, float)
    def number(self, node: float) -> Expr:
        try:
            value = float(node)
        except OverflowError:
            raise FilterError("a number in the filter is too large") from None
        if not math.isfinite(value):
            raise FilterError("numbers in the filter must be finite")
        return self.bind(value, "number")

    @handle(dt.date, dt.datetime)
    def date(self, node: dt.date) -> Expr:
        day = node.date() if isinstance(node, dt.datetime) else node
        return self.bind(day, "date")

    @handle(values.Geometry, values.Envelope)
    def geometry(self, node: Any) -> Expr:
        return self.bind_geometry(node.geometry)

    def bind_geometry(self, geojson: dict) -> Expr:
        try:
            geom = shapely.geometry.shape(geojson)
        except Exception as exc:
            raise FilterError(f"filter geometry is not valid GeoJSON/WKT: {exc}") from None
        if shapely.get_num_coordinates(geom) > MAX_VERTICES:
            raise FilterError(f"filter geometry has over {MAX_VERTICES} vertices")
        if geom.is_empty or not all(math.isfinite(v) for v in geom.bounds):
            raise FilterError("filter geometry is empty or has non-finite coordinates")
        if geom.geom_type == "GeometryCollection":
            raise FilterError("geometry collections are not supported in the filter")
        if self.flip:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            raise FilterError(f"filter geometry is not valid: {reason}")
        if self.filter_srid != 4326:
            _check_domain(geom, self.filter_srid)
        name = f"cq{len(self.params)}"
        self.params[name] = shapely.to_wkb(geom, hex=True)
        self.params[name + "s"] = self.filter_srid
        sql = f"ST_SetSRID(ST_GeomFromWKB(decode(cast(:{name} as text), 'hex')), :{name}s)"
        if self.filter_srid != 4326:
            sql = f"ST_Transform({sql}, 4326)"
        return Expr(sql, "geometry", literal=True)

    @handle(ast.Function)
    def function(self, node: ast.Function, *args: Expr) -> Expr:
        name = node.name.lower()
        if name == "lower" and len(args) == 1 and args[0].kind == "string":  # CASEI
            return Expr(f"lower({args[0].sql})", "string", args[0].literal)
        if name == "bbox" and len(node.arguments) in (4, 6):  # BBOX(...) in CQL2 text
            nums = [float(a) for a in node.arguments if isinstance(a, (int, float))]
            if len(nums) != len(node.arguments):
                raise FilterError("BBOX in the filter needs numbers")
            if len(nums) == 6:
                nums = [nums[0], nums[1], nums[3], nums[4]]
            x0, y0, x1, y1 = nums
            ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
            return self.bind_geometry({"type": "Polygon", "coordinates": [ring]})
        raise FilterError(f"function '{node.name}' is not supported in the filter")

    # --- predicates ---------------------------------------------------------------------
    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: Expr) -> Expr:
        # SQL's (and CQL2's) three-valued logic: NOT of an unknown comparison (a missing
        # value) stays unknown, and the whole filter's unknown selects nothing
        return Expr(f"(not {_cond(sub)})", "condition")

    @handle(ast.And, ast.Or)
    def combination(self, node: ast.Combination, lhs: Expr, rhs: Expr) -> Expr:
        return Expr(f"({_cond(lhs)} {node.op.value} {_cond(rhs)})", "condition")

    @handle(ast.Include)
    def include(self, node: ast.Include) -> Expr:
        return Expr("false" if node.not_ else "true", "condition")

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: ast.Comparison, lhs: Expr, rhs: Expr) -> Expr:
        lhs, rhs = _same_kind(lhs, rhs, node.op.value)
        return Expr(f"({lhs.sql} {_COMPARE[node.op]} {rhs.sql})", "condition")

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Expr, low: Expr, high: Expr) -> Expr:
        lhs, low = _same_kind(lhs, low, "BETWEEN")
        lhs, high = _same_kind(lhs, high, "BETWEEN")
        neg = "not " if node.not_ else ""
        return Expr(f"({lhs.sql} {neg}between {low.sql} and {high.sql})", "condition")

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Expr) -> Expr:
        raw = node.pattern  # not a sub-node in pygeofilter: a text or CASEI(text)
        if isinstance(raw, ast.Function) and raw.name == "lower" and len(raw.arguments) == 1:
            inner = self.evaluate(raw.arguments[0], False)
            pattern = Expr(f"lower({inner.sql})", inner.kind, True, inner.value)
        elif isinstance(raw, str):
            pattern = self.bind(_unquote(raw), "string")
        else:
            raise FilterError("the LIKE pattern must be a text literal")
        text = pattern.value if pattern.value is not None else ""
        if isinstance(text, str) and (len(text) - len(text.rstrip("\\"))) % 2 == 1:
            raise FilterError("the LIKE pattern ends with a lone escape character '\\'")
        if lhs.kind != "string" or pattern.kind != "string":
            raise FilterError("LIKE compares a text property with a text pattern")
        op = ("not " if node.not_ else "") + ("ilike" if node.nocase else "like")
        return Expr(f"({lhs.sql} {op} {pattern.sql})", "condition")

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Expr, *options: Expr) -> Expr:
        if not options:
            raise FilterError("IN needs at least one value")
        items = [_same_kind(lhs, o, "IN")[1].sql for o in options]
        neg = "not " if node.not_ else ""
        return Expr(f"({lhs.sql} {neg}in ({', '.join(items)}))", "condition")

    @handle(ast.IsNull)
    def is_null(self, node: ast.IsNull, lhs: Expr) -> Expr:
        return Expr(f"({lhs.sql} is {'not ' if node.not_ else ''}null)", "condition")

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs: Expr, rhs: Expr) -> Expr:
        if lhs.kind != "geometry" or rhs.kind != "geometry":
            raise FilterError(f"S_{node.op.name} compares geometry with a geometry literal")
        if lhs.literal == rhs.literal:
            raise FilterError(f"S_{node.op.name} needs the geometry property and one literal")
        return Expr(f"{_SPATIAL[node.op]}({lhs.sql}, {rhs.sql})", "condition")

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        what = type(node).__name__
        raise FilterError(f"'{what}' is not supported in the filter (see the conformance)")


@functools.lru_cache(maxsize=32)
def _to_wgs84(srid: int) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(srid, 4326, always_xy=True)


def _check_domain(geom: Any, srid: int) -> None:
    """A geometry outside its ``filter-crs``'s domain is a 400 naming the CRS, not the
    ``transform: Point outside of projection domain`` PostGIS raises as a 500 (issue 21):
    every vertex is projected here first (the same PROJ), and must land on the globe."""
    from pyproj.exceptions import ProjError

    xy = shapely.get_coordinates(geom)
    try:
        lon, lat = _to_wgs84(srid).transform(xy[:, 0], xy[:, 1], errcheck=True)
    except ProjError:
        lon = lat = None
    if lon is None or not (
        np.isfinite(lon).all()
        and np.isfinite(lat).all()
        and (np.abs(lon) <= 180).all()
        and (np.abs(lat) <= 90).all()
    ):
        raise FilterError(
            f"filter geometry lies outside the domain of its filter-crs (EPSG:{srid})"
        )


def _cond(e: Expr) -> str:
    if e.kind not in ("condition", "boolean"):
        raise FilterError("AND/OR/NOT combine predicates, not values")
    return e.sql


def iso_day(text: str) -> dt.date | None:
    """An RFC 3339 date or date-time as a day; GDAL 3.6 writes a date as ``2025-07-01T``."""
    text = text.strip()
    try:
        if text.endswith(("T", "t")):
            return dt.date.fromisoformat(text[:-1])
        if "T" in text or "t" in text:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _same_kind(lhs: Expr, rhs: Expr, op: str) -> tuple[Expr, Expr]:
    """Both sides of a comparison as one type (a text literal compared with a date
    property is read as an ISO date)."""
    for a, b in ((lhs, rhs), (rhs, lhs)):
        if a.kind == "geometry" or a.kind == "condition":
            raise FilterError(f"{op} cannot compare a {a.kind}; use S_INTERSECTS etc.")
        if a.kind == "date" and b.kind == "string" and b.literal:
            day = iso_day(str(b.value))
            if day is None:
                raise FilterError(f"'{b.value}' is not a date (YYYY-MM-DD)")
            # a checked date object: its ISO form is digits and dashes only
            as_date = Expr(f"date '{day.isoformat()}'", "date", True, day)
            return (a, as_date) if a is lhs else (as_date, a)
    if lhs.kind == rhs.kind or (lhs.kind in NUMERIC and rhs.kind in NUMERIC):
        return lhs, rhs
    raise FilterError(f"{op} compares a {lhs.kind} with a {rhs.kind}")


def compile_filter(
    tree: ast.Node,
    level: str,
    indicators: set[str],
    filter_srid: int = 4326,
    flip: bool = False,
) -> UnitFilter:
    """The WHERE fragment of a parsed filter for units of ``level``; ``indicators`` are
    the indicator codes that exist (``<code>`` and ``<code>_rank`` are queryable)."""
    n = count_nodes(tree)
    if n > MAX_NODES:
        raise FilterError(f"filter has {n} nodes; at most {MAX_NODES}")
    ev = _SqlEvaluator(level, indicators, filter_srid, flip)
    try:
        out = ev.evaluate(tree)
    except RecursionError:
        raise FilterError("filter is nested too deeply") from None
    if out.kind not in ("condition", "boolean"):
        raise FilterError("the filter must be a predicate (e.g. completion_pct > 90)")
    return UnitFilter(
        sql=out.sql,
        params=tuple(ev.params.items()),
        groups=frozenset(ev.groups),
        indicators=tuple(ev.used_indicators),
    )
