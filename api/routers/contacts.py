"""Contacts of a province, commune or ministry for notices (role, name, e-mail, the leader in
charge of its area): personal data, so read and replaced only with an editor or admin token
of the holder's scope (a province's token: the province and its communes). Never cached,
never public, never logged."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import acting_engine, editor_reader, write_engine, writer_principal
from api.params import JSON
from geo import contacts as store
from geo.errors import BadInput
from geo.tokens import Principal

router = APIRouter(tags=["contacts"])
UnitCode = Annotated[str, Path(pattern=r"^\d{2}(\d{3})?$", description="province or commune")]
AgencyCode = Annotated[str, Path(pattern=r"^[A-Z]{2,16}$", description="agency code (BKHCN)")]
PRIVATE = {"Cache-Control": "private, no-store"}
EXAMPLE = {
    "contacts": [
        {"role": "Văn phòng UBND tỉnh", "name": "Nguyễn Văn A, Chánh Văn phòng",
         "email": "vanphong@example.gov.vn", "is_leader": False},
        {"role": "Ủy viên Ban Thường vụ phụ trách địa bàn", "name": "Trần Thị B",
         "email": "ttb@example.gov.vn", "is_leader": True},
    ]
}  # fmt: skip
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token"},
    403: {"description": "a viewer token, or a holder outside the token's scope"},
    404: {"description": "no such unit or agency"},
}


def _scoped(request: Request, who: Principal, code: str) -> None:
    with write_engine(request).connect() as conn:
        if not store.holder_exists(conn, code):
            raise HTTPException(404, f"không có đơn vị hoặc bộ, ngành mã {code} (unknown)")
        if who.can_write_units(conn, {code}):
            raise HTTPException(
                403,
                f"token '{who.name}' (phạm vi {who.scope_level}:{who.scope_code}) không được"
                f" xem hoặc sửa danh bạ của {code} (outside the token's scope)",
            )


def _body(code: str, rows: list[dict]) -> bytes:
    for r in rows:
        r["updated_at"] = r["updated_at"].isoformat() if r.get("updated_at") else None
    return orjson.dumps({"code": code, "numberReturned": len(rows), "contacts": rows})


async def _get(request: Request, code: str) -> Response:
    who = await editor_reader(request, "read contacts")

    def build() -> bytes:
        _scoped(request, who, code)
        with write_engine(request).connect() as conn:
            return _body(code, store.read_contacts(conn, code))

    return Response(await run_in_threadpool(build), media_type=JSON, headers=PRIVATE)


async def _put(request: Request, code: str, payload: Any) -> Response:
    who = await writer_principal(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("contacts"), list):
        raise BadInput('body: {"contacts": [...]} expected', field="contacts")
    if set(payload) - {"contacts"}:
        raise BadInput("body: only 'contacts' is allowed", field=sorted(set(payload))[0])
    checked = store.check_contacts(payload["contacts"])
    engine = acting_engine(request, who)

    def write() -> bytes:
        _scoped(request, who, code)
        with engine.begin() as conn:
            store.replace_contacts(conn, code, checked, who.actor)
            return _body(code, store.read_contacts(conn, code))

    return Response(await run_in_threadpool(write), media_type=JSON, headers=PRIVATE)


@router.get("/units/{code}/contacts", summary="A unit's contacts for notices (scoped token)",
            responses=RESPONSES)  # fmt: skip
async def unit_contacts(request: Request, code: UnitCode) -> Response:
    """Contacts (role, name, e-mail, ``is_leader``) of a province or commune, in order."""
    return await _get(request, code)


@router.put("/units/{code}/contacts", summary="Replace a unit's contacts (scoped token)",
            responses=RESPONSES)  # fmt: skip
async def put_unit_contacts(
    request: Request,
    code: UnitCode,
    payload: Annotated[Any, Body(openapi_examples={"two": {"value": EXAMPLE}})],
) -> Response:
    """The whole list replaces the stored one (at most 20; at most one ``is_leader``);
    422 names the field (``contacts[1].email``)."""
    return await _put(request, code, payload)


@router.get("/agencies/{code}/contacts", summary="A ministry's contacts for notices",
            responses=RESPONSES)  # fmt: skip
async def agency_contacts(request: Request, code: AgencyCode) -> Response:
    """Contacts of a ministry or central body (an editor token scoped ``agency:CODE``)."""
    return await _get(request, code)


@router.put("/agencies/{code}/contacts", summary="Replace a ministry's contacts",
            responses=RESPONSES)  # fmt: skip
async def put_agency_contacts(
    request: Request,
    code: AgencyCode,
    payload: Annotated[Any, Body(openapi_examples={"two": {"value": EXAMPLE}})],
) -> Response:
    """Like the units' route."""
    return await _put(request, code, payload)
