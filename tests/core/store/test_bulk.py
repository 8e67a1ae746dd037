"""Bulk writes store what the ORM stores: the same JSON text and instants, raw bytes and
text as given, on SQLite and PostgreSQL (COPY rows and binary arrays there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Text, cast, select

from core.store.bulk import insert_ignoring_conflicts, insert_rows, one_of, update_rows
from core.store.engine import session_scope
from core.store.tables import AuditEvent, InboundMessage

AUDIT = AuditEvent.__table__
INBOUND = InboundMessage.__table__
NOW = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)
ELSEWHERE = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
DETAILS = [{}, {"flagged": True}, {"a": [1, 'é\t\\\n"x'], "b": None}, [], ["x"]]


def _stored(session, actor: str) -> list[tuple]:
    return [
        tuple(r)
        for r in session.execute(
            select(AUDIT.c.action, AUDIT.c.at, cast(AUDIT.c.details, Text))
            .where(AUDIT.c.actor == actor)
            .order_by(AUDIT.c.id)
        )
    ]


def test_bulk_rows_hold_the_json_text_and_instants_the_orm_writes(engine):
    rows = [
        {
            "at": at,
            "action": f"a{i}",
            "actor": "t",
            "user_id": None,
            "ticket_id": None,
            "details": d,
        }
        for i, d in enumerate(DETAILS)
        for at in (NOW, ELSEWHERE, NOW + timedelta(seconds=i))
    ]
    with session_scope(engine) as session:
        insert_rows(session, AUDIT, rows)
        session.add_all(AuditEvent(**(row | {"actor": "orm"})) for row in rows)
    with session_scope(engine) as session:
        bulk = _stored(session, "t")
        assert bulk == _stored(session, "orm")
        assert {at for _, at, _ in bulk} == {NOW + timedelta(seconds=i) for i in range(5)}


def test_raw_rows_go_in_once_and_their_updates_land(engine):
    raw = bytes(range(256)) + b'\\x00 {a,"b"} NULL'
    rows = [
        {
            "message_id": f"<m{i}@example.com>",
            "sha256": f"{i:064x}",
            "content_digest": None,
            "raw": raw[i:],
            "size": len(raw) - i,
            "source": 'odd "source", {x}',
            "received_at": NOW + timedelta(microseconds=i),
            "status": "pending",
            "reason": None,
            "from_addr": None if i % 2 else "a@example.com",
            "subject": "NULL" if i == 1 else 'Ré: {1,2} \\ "q"',
        }
        for i in range(3)
    ]
    with session_scope(engine) as session:
        first = insert_ignoring_conflicts(session, INBOUND, rows, ["id", "message_id"])
        again = insert_ignoring_conflicts(session, INBOUND, rows[:1], ["id"])
        ids = [id_ for id_, _ in first]
        update_rows(
            session,
            INBOUND,
            [
                {"id": id_, "status": "ticket", "reason": None if n else "r", "processed_at": NOW}
                for n, id_ in enumerate(ids)
            ],
        )
    assert [m for _, m in first] == [r["message_id"] for r in rows] and again == []
    with session_scope(engine) as session:
        stored = session.execute(select(INBOUND).order_by(INBOUND.c.id)).mappings().all()
        picked = session.execute(
            select(INBOUND.c.id).where(one_of(session, INBOUND.c.id, ids[1:]))
        ).scalars()
        assert sorted(picked) == ids[1:]
        assert not session.execute(
            select(INBOUND.c.id).where(one_of(session, INBOUND.c.id, []))
        ).all()
    for row, got in zip(rows, stored, strict=True):
        kept = [k for k in row if k not in ("status", "reason")]
        assert [got[k] for k in kept] == [row[k] for k in kept]
        assert (got["status"], got["processed_at"]) == ("ticket", NOW)
    assert [g["reason"] for g in stored] == ["r", None, None]
