"""Migration 0006 upgrades a database holding mail: it backfills the content digests and the
acknowledgement counters, so the constraint and the limits hold for mail already stored,
and it downgrades cleanly; on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from core.store.engine import alembic_config, upgrade_schema
from core.store.tables import AckQuota, InboundMessage
from tests.support.mail import recovery_email


def _migrate(engine, target: str) -> None:
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)
        conn.commit()


def test_upgrade_backfills_digests_and_counters_and_downgrades(inbox, engine):
    raw = recovery_email(message_id="<old@example.com>", sender="old+tag@example.com")
    first = inbox.ingest(raw)
    inbox.ingest(b"Received: from mx2.example.com\r\n" + raw)
    for i in range(2):
        inbox.ingest(recovery_email(sender="old@example.com", body=f"again {i}"))

    _migrate(engine, "0005")
    with engine.begin() as conn:
        columns = conn.execute(text("SELECT * FROM inbound_messages")).keys()
        assert "content_digest" not in list(columns)
        # What the read-then-write check let through before: a second original.
        conn.execute(
            text(
                "INSERT INTO inbound_messages (message_id, sha256, source, received_at, raw,"
                " size, status, ticket_id) SELECT message_id, 'f' || substr(sha256, 2),"
                " source, received_at, :raw, size, 'ticket', ticket_id FROM inbound_messages"
                " WHERE id = :id"
            ),
            {"raw": b"Received: from mx3.example.com\r\n" + raw, "id": first.inbound_id},
        )
    upgrade_schema(engine)

    rows = inbox.inbound()
    assert rows[0].content_digest is not None  # the original
    assert rows[1].content_digest is None  # the re-delivery stored as a duplicate
    assert rows[-1].content_digest is None  # the second original: first one keeps it
    with engine.connect() as conn:
        quota = conn.execute(select(AckQuota.n).where(AckQuota.key == "old@example.com"))
        assert quota.scalar_one() == 3
    late = inbox.ingest(b"Received: from mx4.example.com\r\n" + raw)
    assert late.status == "duplicate" and late.ticket_id == first.ticket_id
    assert not inbox.ingest(recovery_email(sender="OLD@example.com", body="fourth")).acknowledged

    _migrate(engine, "0005")
    with engine.begin() as conn:
        columns = conn.execute(text("SELECT * FROM inbound_messages")).keys()
        assert "content_digest" not in list(columns)
        tables = conn.dialect.get_table_names(conn)
        assert "ack_quotas" not in tables
    upgrade_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(select(InboundMessage.id)).all()
