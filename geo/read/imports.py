"""The list of imports (``GET /api/v1/imports``): who sent which file, when, what it did.

Why a read of ``import_run`` joined to ``api_token``: the row keeps the token id (the
token's name may be shown, its hash never). Rows from before migration 0006 have no
``outcome``: they were committed imports, so it reads from their counts.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

MAX_LIMIT = 200

_SQL = """
select r.id, r.kind, r.file, r.actor, r.token_id, t.name as token_name, r.at,
       r.created, r.updated, r.unchanged, r.rejected, r.version_before, r.version,
       r.dry_run,
       coalesce(r.outcome,
                case when r.created + r.updated > 0 then 'imported' else 'no_changes' end)
         as outcome
from import_run r
left join api_token t on t.id = r.token_id
where (cast(:kind as text) is null or r.kind = cast(:kind as text))
order by r.at desc, r.id desc
limit :limit offset :offset"""


def import_runs(
    conn: Connection, limit: int, offset: int, kind: str | None = None
) -> tuple[int, list[dict]]:
    """(number of runs matched, one page of them newest first)."""
    total = conn.execute(
        text(
            "select count(*) from import_run"
            " where cast(:kind as text) is null or kind = cast(:kind as text)"
        ),
        {"kind": kind},
    ).scalar_one()
    rows = conn.execute(
        text(_SQL), {"kind": kind, "limit": min(limit, MAX_LIMIT), "offset": offset}
    ).mappings()
    return int(total), [dict(r) for r in rows]
