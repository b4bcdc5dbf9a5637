"""``geo/models.py`` equals what the Alembic migrations build (an ``alembic check``).

A fresh database is migrated from nothing to head; Alembic's autogenerate comparison
(``compare_metadata``, the engine behind ``alembic check``) must then find no table,
column, type, nullability, index or foreign key that differs from the models. The
migrations are also walked down to nothing and up again, so every downgrade runs.
"""

from __future__ import annotations

import geoalchemy2.alembic_helpers
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo.migrate import alembic_config, upgrade
from geo.models import Base
from tests.conftest import create_database_if_missing


def _include(obj, name, type_, reflected, compare_to) -> bool:
    """PostGIS's own tables are not ours; GeoAlchemy2 knows its spatial indexes."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return geoalchemy2.alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _fresh_database(db_url: str) -> str:
    url = make_url(db_url)
    fresh = url.set(database=f"{url.database}_schema_check")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{fresh.database}" with (force)'))
    admin.dispose()
    create_database_if_missing(fresh)
    return fresh.render_as_string(hide_password=False)


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_object": _include, "compare_type": True}
            )
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def test_models_equal_the_migrated_schema(db_url):
    url = _fresh_database(db_url)
    upgrade(url)
    assert _differences(url) == []
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    assert _differences(url) == []
