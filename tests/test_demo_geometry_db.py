"""The demo geometry invariants, checked by PostGIS itself on the loaded tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.fixture(scope="module")
def conn(engine):
    with engine.connect() as c:
        yield c


def scalar(conn, sql: str):
    return conn.execute(text(sql)).scalar_one()


def test_counts(conn):
    assert scalar(conn, "select count(*) from admin_unit where level = 'province'") == 34
    assert scalar(conn, "select count(*) from admin_unit where level = 'commune'") == 3321


def test_every_geometry_is_valid_and_polygonal(conn):
    bad = scalar(
        conn,
        "select count(*) from admin_unit where not ST_IsValid(geom) or ST_IsEmpty(geom)"
        " or GeometryType(geom) <> 'MULTIPOLYGON'",
    )
    assert bad == 0
    bad_levels = scalar(
        conn,
        "select count(*) from unit_geometry_level where not ST_IsValid(geom) or ST_IsEmpty(geom)",
    )
    assert bad_levels == 0


def test_communes_do_not_overlap(conn):
    overlapping = scalar(
        conn,
        """
        select count(*) from admin_unit a join admin_unit b
          on a.code < b.code and a.level = 'commune' and b.level = 'commune'
         and a.geom && b.geom and ST_Intersects(a.geom, b.geom)
        where ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1.0  -- m²
        """,
    )
    assert overlapping == 0


def test_each_commune_contains_its_official_centroid(conn):
    outside = (
        conn.execute(
            text(
                "select code from admin_unit where level = 'commune'"
                " and not ST_Contains(geom, label_point)"
            )
        )
        .scalars()
        .all()
    )
    assert outside == []


def test_each_commune_lies_inside_its_province(conn):
    outside = (
        conn.execute(
            text(
                """
            select c.code from admin_unit c join admin_unit p on p.code = c.parent_code
            where c.level = 'commune'
              and ST_Area(ST_Difference(c.geom, p.geom)::geography) > 1.0
            """
            )
        )
        .scalars()
        .all()
    )
    assert outside == []


def test_each_province_is_the_union_of_its_communes(conn):
    worst = scalar(
        conn,
        """
        select max(ST_Area(ST_SymDifference(p.geom, u.geom)) / ST_Area(p.geom))
        from admin_unit p
        join (select parent_code, ST_Union(geom) geom from admin_unit
              where level = 'commune' group by parent_code) u on u.parent_code = p.code
        """,
    )
    assert worst < 1e-9


def test_special_zones_offshore_included_have_polygons(conn):
    rows = conn.execute(
        text(
            "select name, ST_X(label_point) lon, ST_Area(geom::geography) / 1e6 km2"
            " from admin_unit where kind = 'Đặc khu'"
        )
    ).all()
    assert len(rows) == 13
    assert all(r.km2 > 0 for r in rows)
    names = {r.name: r for r in rows}
    assert names["Hoàng Sa"].lon > 111.5 and names["Trường Sa"].lon > 114


def test_geometry_is_labelled_approximate(client):
    fc = client.get("/api/v1/provinces/96/communes").json()
    assert {f["properties"]["geometry_quality"] for f in fc["features"]} == {"approximate"}


def test_the_loaded_demo_has_planner_statistics(conn):
    """``load_demo`` analyzes what it loaded: without statistics (a copy of the database made
    before autovacuum ran, as the tests' template is) the national tile took minutes, not
    0.3 s. The session database here is such a copy."""
    analysed = set(
        conn.execute(
            text(
                "select distinct tablename from pg_stats where schemaname = 'public'"
                " and tablename in ('task', 'task_event', 'admin_unit', 'unit_geometry_level')"
            )
        ).scalars()
    )
    assert analysed == {"task", "task_event", "admin_unit", "unit_geometry_level"}
