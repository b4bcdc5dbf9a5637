"""Request parameters checked once for every route, before any route code or SQL sees them.

Why here and not per route: the 500s an adversarial pass found (``offset`` ≥ 2^63 reaching
PostgreSQL as a bigint, a NUL byte in an OGC filter, ``program`` or ``task`` reaching
psycopg, which refuses NUL in strings) all came from values that are valid Python but not
valid SQL. Two layers, shared by every router:

- ``ParamGuard`` (pure ASGI, outermost after logging): the raw query string and path. A
  control character (NUL, CR, LF, ESC, DEL, C1…) anywhere, a value over
  ``MAX_VALUE_CHARS``, more than ``MAX_PARAMS`` parameters → 400 naming the parameter,
  answered as a normal response so the keep-alive connection stays usable.
- ``typed_params`` (a router dependency, so it knows the route): every ``int`` parameter
  within PostgreSQL's bigint (tighter bounds a route declares stay pydantic's); code parameters
  (``code``, ``province``, ``*_code``) in ASCII only: full-width digits ``３１８２５`` or
  other look-alikes are refused with the ASCII spelling suggested, never silently matched.
"""

from __future__ import annotations

import re
import types
import typing
import unicodedata
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import orjson
from fastapi import Request

from api.errors import BadParameter

BIGINT_MAX = 2**63 - 1
BIGINT_MIN = -(2**63)
MAX_VALUE_CHARS = 4096
MAX_PARAMS = 64
MAX_NAME_CHARS = 200
CODE_PARAMS = frozenset({"code", "province", "commune", "unit"})
_INT = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # exactly Unicode's Cc category
# a control character percent-encoded in a raw query string: %00-%1F, %7F, UTF-8 C1
_ENCODED_CONTROL = re.compile(r"(?i)%(?:[01][0-9a-f]|7f|c2%[89][0-9a-f])")


def control_character(text: str) -> str | None:
    """The first control character of ``text`` as ``U+0000``, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _shown(name: str) -> str:
    """A parameter name fit to be quoted back (its control characters made visible)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)[:64]


def check_query(query: str) -> tuple[str, str] | None:
    """(parameter, message) for the first unusable part of a raw query string, else None.

    The common case costs three scans of the raw string: the query is parsed only when
    it may hold a control character, an oversized value or too many parameters."""
    if (
        len(query) <= MAX_VALUE_CHARS
        and query.count("&") < MAX_PARAMS
        and not _ENCODED_CONTROL.search(query)
        and not _CONTROL.search(query)
    ):
        return None
    pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=None)
    if len(pairs) > MAX_PARAMS:
        return "query", f"too many query parameters ({len(pairs)}; at most {MAX_PARAMS})"
    for name, value in pairs:
        bad = control_character(name)
        if bad:
            return _shown(name), f"control character {bad} in a query parameter name"
        if len(name) > MAX_NAME_CHARS:
            return _shown(name), f"query parameter name over {MAX_NAME_CHARS} characters"
        bad = control_character(value)
        if bad:
            return name, f"control character {bad} in parameter '{name}'"
        if len(value) > MAX_VALUE_CHARS:
            return name, f"parameter '{name}' is over {MAX_VALUE_CHARS} characters"
    return None


ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class ParamGuard:
    """Refuse control characters and oversized values in the query string and the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = None
        bad = control_character(scope.get("path", ""))
        if bad:
            problem = ("path", f"control character {bad} in the path")
        else:
            raw = scope.get("query_string", b"").decode("latin-1")
            if raw:
                problem = check_query(raw)
        if problem is None:
            await self.app(scope, receive, send)
            return
        param, message = problem
        body = orjson.dumps({"detail": message, "errors": [{"param": param, "msg": message}]})
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _is_int(annotation: object) -> bool:
    """``int``, ``int | None``, ``Optional[int]`` (never ``bool``)."""
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(a is int for a in typing.get_args(annotation))
    return False


def _fields(dependant) -> list:
    fields = list(dependant.query_params) + list(dependant.path_params)
    for sub in dependant.dependencies:
        fields.extend(_fields(sub))
    return fields


def _check_int(name: str, raw: str) -> None:
    """Within bigint, in ASCII digits; tighter bounds a route declares are pydantic's (422)."""
    if not raw.isascii():
        raise BadParameter(name, f"parameter '{name}' must be written in ASCII digits", 422)
    if not _INT.fullmatch(raw):
        return  # pydantic reports a malformed value (422)
    if not BIGINT_MIN <= int(raw) <= BIGINT_MAX:
        raise BadParameter(
            name, f"parameter '{name}' is out of range: {raw.strip()[:40]} (at most {BIGINT_MAX})"
        )


def _check_code(name: str, raw: str) -> None:
    if raw.isascii():
        return
    ascii_form = "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
        for c in unicodedata.normalize("NFKC", raw)
    )
    hint = f"; did you mean '{ascii_form}'?" if ascii_form.isascii() else ""
    first = next(c for c in raw if not c.isascii())
    char = unicodedata.name(first, f"U+{ord(first):04X}")
    raise BadParameter(
        name, f"parameter '{name}' must be ASCII: '{raw[:20]}' contains {char}{hint}"
    )


async def typed_params(request: Request) -> None:
    """Range of int parameters and ASCII-ness of code parameters, for the matched route."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    path_params = request.path_params
    for field in _fields(dependant):
        name = field.alias
        raws = [path_params[name]] if name in path_params else request.query_params.getlist(name)
        if not raws:
            continue
        is_int = _is_int(field.field_info.annotation)
        for raw in raws:
            if not isinstance(raw, str):
                continue
            if is_int:
                _check_int(name, raw)
            elif name in CODE_PARAMS or name.endswith("_code"):
                _check_code(name, raw)
