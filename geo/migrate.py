"""Run Alembic migrations from code, so `iocmap db migrate` needs no alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", app_url: str | None = None) -> str | None:
    """Bring the schema to ``revision`` (idempotent) as the owner ``url``, then (re)grant
    the app role its privileges on every table, including those this run added.

    ``app_url`` defaults to ``geo.db.app_database_url(url)``; returns the app role's name
    (None when the app connects as the owner)."""
    from geo.db import app_database_url, normalise_url
    from geo.roles import ensure_app_role

    url = normalise_url(url)
    command.upgrade(alembic_config(url), revision)
    return ensure_app_role(url, app_url or app_database_url(url))
