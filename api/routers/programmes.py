"""``GET /api/v1/programmes``: the programme registry sheets are matched against.

Why public: an office writing a sheet needs the codes, names and aliases the importer
accepts in its "Chương trình" column (an unknown programme is a row error that points
here); a client filtering ``?program=NQ57`` sees which action programmes count in it."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.params import JSON, meta
from geo.read.programmes import programmes as read_programmes

router = APIRouter(tags=["programmes"])


@router.get(
    "/programmes",
    summary="Programmes (NQ57 and provincial action programmes, KH02 and its phases)",
    responses={200: {"description": "the registry, parents first"}},
)
async def programmes(request: Request, db: LazyConnDep, state: StateDep):
    """Each entry: code, name, aliases, parent (its tasks count in the parent's totals),
    phase (a phase of its parent), province (a provincial programme), task count."""

    def build() -> bytes:
        items = read_programmes(db.conn)
        return orjson.dumps({**meta(state), "programmes": items})

    return await cached_response(request, state, build, JSON)
