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
       r.dry_run, r.file_sha256,
       coalesce(r.outcome,
                case when r.created + r.updated > 0 then 'imported' else 'no_changes' end)
         as outcome
from import_run r
left join api_token t on t.id = r.token_id
where (cast(:kind as text) is null or r.kind = cast(:kind as text)) and {scope}
order by r.at desc, r.id desc
limit :limit offset :offset"""


# a scoped reader sees its own token's runs and runs that named a unit of its scope
_SCOPE = """(cast(:scope as text) is null or r.token_id = cast(:me as integer) or exists (
  select 1 from import_run_unit ru left join admin_unit a on a.code = ru.unit_code
  where ru.import_run_id = r.id and (ru.unit_code = :scope or a.parent_code = :scope)))"""


def import_runs(
    conn: Connection,
    limit: int,
    offset: int,
    kind: str | None = None,
    scope: str | None = None,
    token_id: int | None = None,
) -> tuple[int, list[dict]]:
    """(number of runs matched, one page of them newest first). ``scope`` (a province,
    commune or agency code) limits the list to runs of ``token_id`` and runs that named a
    unit of that scope, as writes are limited (issue 21)."""
    params = {"kind": kind, "scope": scope, "me": token_id}
    total = conn.execute(
        text(
            "select count(*) from import_run r"
            " where (cast(:kind as text) is null or r.kind = cast(:kind as text))"
            f" and {_SCOPE}"
        ),
        params,
    ).scalar_one()
    rows = conn.execute(
        text(_SQL.format(scope=_SCOPE)),
        {**params, "limit": min(limit, MAX_LIMIT), "offset": offset},
    ).mappings()
    return int(total), [dict(r) for r in rows]
