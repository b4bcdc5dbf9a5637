"""Reading the delivery queue (``geo/remind/deliver.py`` fills and works it): a notice's
deliveries, the list by status (the dead letters), one delivery."""

from __future__ import annotations

from sqlalchemy import Connection, text

_COLUMNS = (
    "d.id, d.reminder_id, d.channel, d.status, d.attempts, d.created_at, d.next_attempt_at,"
    " d.last_error, d.message_id, d.sent_at, r.doc_number, r.unit_code, r.agency_code"
)


def deliveries_of(conn: Connection, reminder_id: int) -> list[dict]:
    rows = conn.execute(
        text(
            f"select {_COLUMNS} from delivery d join reminder r on r.id = d.reminder_id"
            " where d.reminder_id = :r order by d.channel"
        ),
        {"r": reminder_id},
    ).mappings()
    return [dict(r) for r in rows]


def delivery_list(
    conn: Connection, status: str | None, scope: str | None, limit: int, offset: int
) -> tuple[int, list[dict]]:
    """Deliveries (newest first), of one status if given; ``scope``: a province's token
    sees its own and its communes' notices only."""
    where = (
        "(cast(:status as text) is null or d.status = :status) and (cast(:scope as text) is null"
        " or r.unit_code = :scope or r.agency_code = :scope or exists (select 1 from admin_unit u"
        " where u.code = r.unit_code and u.parent_code = :scope))"
    )
    params = {"status": status, "scope": scope, "limit": limit, "offset": offset}
    total = conn.execute(
        text(
            f"select count(*) from delivery d join reminder r on r.id = d.reminder_id where {where}"
        ),
        params,
    ).scalar_one()
    rows = conn.execute(
        text(
            f"select {_COLUMNS} from delivery d join reminder r on r.id = d.reminder_id"
            f" where {where} order by d.id desc limit :limit offset :offset"
        ),
        params,
    ).mappings()
    return int(total), [dict(r) for r in rows]


def delivery_row(conn: Connection, delivery_id: int) -> dict | None:
    row = (
        conn.execute(
            text(
                f"select {_COLUMNS} from delivery d join reminder r on r.id = d.reminder_id"
                " where d.id = :i"
            ),
            {"i": delivery_id},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
