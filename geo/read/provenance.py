"""Where the stored data came from: what a demo load would throw away.

Why: ``iocmap demo`` (and so ``make demo``) replaces every table; run on a database that
holds real boundaries or sheets it would erase them. It asks here first and refuses.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

DEMO_ACTOR = "demo"


def imported_data(conn: Connection, demo_source: str) -> list[str]:
    """One phrase per kind of non-demo data held (empty when only demo data or nothing):
    official boundaries, task changes from sheets or tokens, a last import of any kind."""
    found: list[str] = []
    units = conn.execute(
        text(
            "select level, count(*) n from admin_unit"
            " where geometry_quality <> 'approximate' or source is distinct from :s"
            " group by level order by level desc"
        ),
        {"s": demo_source},
    ).all()
    found += [f"{r.n:,} imported {r.level} boundaries" for r in units]
    events = conn.execute(
        text("select count(*) from task_event where actor is distinct from :a"),
        {"a": DEMO_ACTOR},
    ).scalar_one()
    if events:
        found.append(f"{events:,} task changes from sheets")
    last = conn.execute(
        text(
            "select source from data_state where id = 1 and source is not null"
            " and source <> :s and exists (select 1 from admin_unit)"
        ),
        {"s": demo_source},
    ).scalar()
    if last and not found:
        found.append(f"last change: {last}")
    return found


def database_incarnation(conn: Connection) -> int:
    """The database's OID: a database dropped and created again under the same name (a
    restore, a test's scratch copy) gets a new one, so files cached for the old one by
    data version are never served for the new one."""
    return conn.execute(
        text("select oid from pg_database where datname = current_database()")
    ).scalar_one()
