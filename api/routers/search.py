"""Find provinces and communes by name, with or without diacritics."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.models import SearchResults, ok
from api.params import JSON, meta
from geo.read import search as unit_search
from geo.text import search_key

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    summary="Units by name (diacritic-insensitive), with their province",
    responses=ok(SearchResults),
)
async def search(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="name, code, or a kind + name ('phuong ba dinh')",
            openapi_examples={"no diacritics": {"value": "dak lak"}},
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    level: Annotated[str | None, Query(pattern="^(province|commune)$")] = None,
):
    """Ranked: exact match first, then names starting with the query, then containing it,
    then look-alikes (typos, trigram similarity). Diacritics, spaces and apostrophes do not
    matter (``cu mgar`` finds Cư M'gar); abbreviations resolve (``TP.HCM``, ``HN``, ``ĐN``);
    a leading ``Tỉnh``/``Thành phố``/``Phường``/``Xã`` narrows the kind. Each result has a
    ``bbox`` to zoom to."""
    key = search_key(q)
    if not key:
        raise BadParameter("q", "q needs at least one letter or digit")

    def build() -> bytes:
        results = unit_search.search(db.conn, key, limit, level)
        return orjson.dumps({**meta(state), "q": q, "results": results})

    return await cached_response(request, state, build, JSON)
