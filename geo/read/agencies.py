"""Reads about ministries and central bodies (the task figures live in ``progress``)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo.read.progress import agency_kpis, central_summary

__all__ = ["agency", "agency_kpis", "central_summary"]


def agency(conn: Connection, code: str) -> dict | None:
    """An agency's identity (None if unknown)."""
    row = (
        conn.execute(
            text("select code, name, name_en, kind from agency where code = :c"), {"c": code}
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
