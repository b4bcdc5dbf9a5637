"""Queryables (Part 3) and the feature schema (Part 5) of the OGC collections.

Why apart from ``api/routers/ogc.py``: both are the one JSON Schema of the served properties
(``api.ogc_docs.property_schemas``: types, titles, the indicator values of the
latest period), read by clients before they filter or sort; the items route only uses the
same property list through ``geo.read.features.property_sql``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response

from api.deps import LazyConnDep, StateDep
from api.ogc_docs import (
    JSON,
    SCHEMA,
    collection_or_404,
    property_schemas,
    root_url,
)
from api.ogc_respond import SCHEMA_OR_HTML, F, respond
from geo.read.features import indicator_codes, latest_period

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])


@router.get(
    "/collections/{collectionId}/queryables",
    response_class=Response,
    responses=SCHEMA_OR_HTML,
    summary="Queryable properties",
)
async def queryables(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    f: F = None,
):
    """Every property usable in ``filter`` and ``sortby`` (JSON Schema), figures and the
    indicator values of the latest period included."""
    return await respond(
        request, state, lambda: _property_schema(request, db, collection_id, "queryables"),
        JSON if f == "json" else SCHEMA, f,
    )  # fmt: skip


@router.get(
    "/collections/{collectionId}/schema",
    response_class=Response,
    responses=SCHEMA_OR_HTML,
    summary="Schema of the features (Part 5)",
)
async def schema(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    f: F = None,
):
    """The properties a feature of the collection carries, with their types."""
    return await respond(
        request, state, lambda: _property_schema(request, db, collection_id, "schema"),
        JSON if f == "json" else SCHEMA, f,
    )  # fmt: skip


def _property_schema(request: Request, db: Any, collection_id: str, kind: str) -> bytes:
    meta = collection_or_404(collection_id)
    conn = db.conn
    codes = indicator_codes(conn, meta["level"])
    period = latest_period(conn, meta["level"])
    props = property_schemas(meta["level"], codes, period)
    geometry: dict[str, Any] = {"format": "geometry-multipolygon"}
    if kind == "schema":
        geometry["x-ogc-role"] = "primary-geometry"
        props["code"] = {**props["code"], "x-ogc-role": "id"}
    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{root_url(request)}/collections/{collection_id}/{kind}",
        "type": "object",
        "title": meta["title"],
        "properties": {**props, "geometry": geometry},
        "additionalProperties": kind == "schema",
    }
    if kind == "queryables":
        # the draft's list form (an annotation to JSON Schema): GDAL ≤ 3.6's OAPIF driver
        # reads only this to decide which -where terms it may send as a server filter
        doc["queryables"] = [{"id": n, "type": p.get("type")} for n, p in props.items()]
    return orjson.dumps(doc)
