"""Alembic environment: migrates the URL set by ``geo.migrate`` (else iocmap's default)."""

from alembic import context
from sqlalchemy import pool

from geo.db import database_url, make_engine
from geo.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    """Leave PostGIS's own tables (spatial_ref_sys, tiger, topology) alone."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
