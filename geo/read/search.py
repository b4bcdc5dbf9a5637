"""Finding units by what people type: no diacritics, typos, abbreviations, apostrophes.

Why these rules: users type ``ba dinh`` for Ba Đình, ``tphcm`` or ``HCM`` for Thành phố
Hồ Chí Minh, ``cu mgar`` for Cư M'gar (names written with ``'``, ``’`` or nothing). The
match runs on the *compact key*: the diacritic-free ``name_key`` without spaces (apostrophes
already became spaces in ``geo.text.search_key``), so word breaks and apostrophes stop
mattering: ``cumgar`` is in ``cumgar`` whatever was typed. Typos go to PostgreSQL's
``pg_trgm`` (trigram similarity on the same compact key, GIN index from migration
0006_search_trgm) and only when nothing contains the query, so a correct query never gets
look-alikes mixed in. Common abbreviations (``ABBREVIATIONS``) are expanded before, and a
leading kind word (``tinh``, ``thanh pho``, ``tp``, ``phuong``, ``xa``, ``dac khu``)
narrows the kind (or is ignored when nothing of that kind matches).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# compact key typed → the unit's diacritic-free name key
ABBREVIATIONS = {
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "hcmc": "ho chi minh",
    "sg": "ho chi minh",
    "saigon": "ho chi minh",
    "hn": "ha noi",
    "tphn": "ha noi",
    "dn": "da nang",
    "tpdn": "da nang",
    "hp": "hai phong",
    "tphp": "hai phong",
    "ct": "can tho",
    "tpct": "can tho",
    "tphue": "hue",
}
KIND_WORDS = {
    "thanh pho": "Thành phố",
    "tp": "Thành phố",
    "tinh": "Tỉnh",
    "phuong": "Phường",
    "dac khu": "Đặc khu",
    "xa": "Xã",
}
MAX_RESULTS = 100
SIMILARITY = 0.3  # pg_trgm's default threshold


def compact(key: str) -> str:
    """The compact key of a diacritic-free key: no spaces."""
    return key.replace(" ", "")


def parse_query(key: str) -> tuple[str, str | None]:
    """(compact key to look for, kind or None) from a ``search_key``: abbreviations
    expanded, a leading kind word split off."""
    if compact(key) in ABBREVIATIONS:
        return compact(ABBREVIATIONS[compact(key)]), None
    for word, kind in KIND_WORDS.items():
        if key.startswith(word + " ") and len(key) > len(word) + 1:
            rest = key[len(word) + 1 :]
            return compact(ABBREVIATIONS.get(compact(rest), rest)), kind
    return compact(key), None


# The unit's compact key in SQL (the expression migration 0006 indexes).
COMPACT_SQL = "replace(u.name_key, ' ', '')"


def name_filter_sql(params: dict, key: str, level: str, prefix: str = "nm") -> str:
    """A WHERE fragment for the layers' ``q``/``name``: the compact key contains the query
    (or the code equals it); when no unit of the level contains it, trigram look-alikes.
    Values go into ``params`` under ``prefix``."""
    wanted, kind = parse_query(key)
    params[f"{prefix}_code"] = key
    if not wanted:
        # a query of punctuation only (``%``, ``_``): search keys keep letters and digits,
        # so no name contains it; it must not become ``like '%%'``, which matches all
        return f"(u.code = :{prefix}_code)"
    params[f"{prefix}_like"] = f"%{wanted}%"
    params[f"{prefix}_c"] = wanted
    params[f"{prefix}_kind"] = kind
    params[f"{prefix}_level"] = level
    kind_sql = f"(cast(:{prefix}_kind as text) is null or u.kind = cast(:{prefix}_kind as text))"
    return (
        f"(u.code = :{prefix}_code or ({kind_sql} and ({COMPACT_SQL} like :{prefix}_like"
        f" or (not exists (select 1 from admin_unit x where x.level = :{prefix}_level"
        f" and replace(x.name_key, ' ', '') like :{prefix}_like)"
        f" and similarity({COMPACT_SQL}, :{prefix}_c) >= {SIMILARITY}))))"
    )


_SEARCH_SQL = f"""
with cand as (
  select u.code, {COMPACT_SQL} as ck, similarity({COMPACT_SQL}, :c) as sim
  from admin_unit u
  where (u.code = :code or {COMPACT_SQL} like :like or {COMPACT_SQL} % :c)
    and (cast(:kind as text) is null or u.kind = cast(:kind as text))
    and (cast(:level as text) is null or u.level = cast(:level as text))
)
select u.code, u.name, u.kind, u.level, u.kind || ' ' || u.name as full_name,
       u.parent_code as province_code, p.name as province_name,
       ST_XMin(b) as minx, ST_YMin(b) as miny, ST_XMax(b) as maxx, ST_YMax(b) as maxy
from cand c
join admin_unit u on u.code = c.code
left join admin_unit p on p.code = u.parent_code
cross join lateral (select ST_Envelope(u.geom) as b) e
order by case when c.ck = :c or u.code = :code then 0
              when c.ck like :prefix then 1
              when c.ck like :like then 2 else 3 end,
         case when c.ck like :like then 0 else -c.sim end,
         case u.level when 'province' then 0 else 1 end, u.name collate "vi-VN-x-icu", u.code
limit :limit"""


def search(conn: Connection, key: str, limit: int, level: str | None = None) -> list[dict]:
    """Units ranked: exact compact key (or code) first, then prefix, then contains, then
    trigram look-alikes by similarity; provinces before communes, then by name.

    A leading kind word narrows to that kind; when that leaves nothing, it is dropped
    (``xa hue`` still finds Huế)."""
    wanted, kind = parse_query(key)
    rows = _run(conn, key, wanted, kind, min(limit, MAX_RESULTS), level)
    if not rows and kind is not None:
        rows = _run(conn, key, wanted, None, min(limit, MAX_RESULTS), level)
    out = []
    for r in rows:
        item = {k: r[k] for k in ("code", "name", "kind", "level", "full_name")}
        item["province_code"] = r["province_code"]
        item["province_name"] = r["province_name"]
        item["bbox"] = [round(r[k], 6) for k in ("minx", "miny", "maxx", "maxy")]
        out.append(item)
    return out


def _run(conn: Connection, key: str, wanted: str, kind: str | None, limit: int, level):
    return list(
        conn.execute(
            text(_SEARCH_SQL),
            {
                "c": wanted,
                "code": key,
                "like": f"%{wanted}%",
                "prefix": f"{wanted}%",
                "kind": kind,
                "level": level,
                "limit": limit,
            },
        ).mappings()
    )
