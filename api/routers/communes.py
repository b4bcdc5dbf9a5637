"""Communes (xã, phường, đặc khu) as RFC 7946 GeoJSON with Plan 02 progress."""

from __future__ import annotations

from api.routers._layer_routes import LayerDocs, layer_router

DOCS = LayerDocs(
    code_pattern=r"^\d{5}$",
    code_description="5-digit commune code",
    code_examples={"Phường Ba Đình": {"value": "00004"}},
    province_description="only this province's communes",
    province_examples={"Nghệ An": {"value": "40"}},
    list_summary="Communes with Plan 02 progress (GeoJSON FeatureCollection)",
    list_description="Lean properties by default (code, name, figures, province); ``fields`` "
    "picks others, ``period`` adds indicator values, ``zoom``/``resolution`` pick a lighter "
    "geometry, ``limit``/``offset`` page with ``next``/``prev`` links.",
    detail_summary="One commune with every figure, its province, indicators and links",
    detail_description="Full detail of one commune (GeoJSON Feature).",
)
router = layer_router("commune", "communes", DOCS)
