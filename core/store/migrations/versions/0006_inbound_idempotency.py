"""Inbound idempotency held by the database.

- ``inbound_messages.content_digest`` with a unique (Message-ID, content digest): a second
  original of the same email (other transport headers, same sender, subject, text and
  attachments) is refused by the constraint, not by a read before the write.
- ``ack_quotas``: the acknowledgement limits as counters claimed by a conditional upsert.

The upgrade backfills both from the data: each processed message's digest from its stored
raw copy (the first original of a (Message-ID, digest) keeps it, later copies stay NULL),
and each address's (and the global) counter from the acknowledgements queued in its latest
window. A message whose access token was masked in its raw copy gets the digest of
the masked text, so a re-delivery of such a message after the upgrade is not recognised.

Revision ID: 0006
Revises: 0005
"""

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

from core.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PROCESSED = ("ticket", "threaded", "auto", "bounce")


def upgrade() -> None:
    op.add_column("inbound_messages", sa.Column("content_digest", sa.String(length=64)))
    op.create_table(
        "ack_quotas",
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _backfill_digests(op.get_bind())
    _backfill_quotas(op.get_bind())
    op.create_index(
        "uq_inbound_message_id_content",
        "inbound_messages",
        ["message_id", "content_digest"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_inbound_message_id_content", table_name="inbound_messages")
    op.drop_column("inbound_messages", "content_digest")
    op.drop_table("ack_quotas")


def _backfill_digests(conn: sa.Connection) -> None:
    from core.inbound.parsing import parse_message
    from core.inbound.prepare import content_digest

    inbound = sa.table(
        "inbound_messages",
        sa.column("id", sa.Integer),
        sa.column("message_id", sa.String),
        sa.column("raw", sa.LargeBinary),
        sa.column("status", sa.String),
        sa.column("content_digest", sa.String),
    )
    seen: set[tuple[str, str]] = set()
    rows = conn.execute(
        sa.select(inbound.c.id, inbound.c.message_id, inbound.c.raw)
        .where(inbound.c.status.in_(PROCESSED))
        .order_by(inbound.c.id)
    ).all()
    updates = []
    for id_, message_id, raw in rows:
        try:
            digest = content_digest(parse_message(bytes(raw), max_bytes=len(raw) + 1))
        except Exception:  # a message that no longer parses keeps no digest
            continue
        if (message_id, digest) not in seen:
            seen.add((message_id, digest))
            updates.append({"row_id": id_, "digest": digest})
    if updates:
        conn.execute(
            inbound.update()
            .where(inbound.c.id == sa.bindparam("row_id"))
            .values(content_digest=sa.bindparam("digest")),
            updates,
        )


def _backfill_quotas(conn: sa.Connection) -> None:
    from core.tickets.acknowledgement import GLOBAL_KEY, TEMPLATE, address_key

    outbox = sa.table(
        "outbox_emails",
        sa.column("to_addr", sa.String),
        sa.column("template", sa.String),
        sa.column("ticket_id", sa.Integer),
        sa.column("created_at", UTCDateTime()),
    )
    quotas = sa.table(
        "ack_quotas",
        sa.column("key", sa.String),
        sa.column("window_start", UTCDateTime()),
        sa.column("n", sa.Integer),
        sa.column("granted", sa.Integer),
    )
    sent = conn.execute(
        sa.select(outbox.c.to_addr, outbox.c.created_at).where(
            outbox.c.template == TEMPLATE, outbox.c.ticket_id.is_not(None)
        )
    ).all()
    per_key: dict[str, list[datetime]] = defaultdict(list)
    for to, at in sent:
        per_key[address_key(to)].append(at)
    windows = {key: _window(times, timedelta(days=1)) for key, times in per_key.items()}
    if sent:
        windows[GLOBAL_KEY] = _window([at for _, at in sent], timedelta(hours=1))
    rows = [
        {
            "key": key,
            "window_start": min(times),
            "n": len(times),
            "granted": 0,
        }
        for key, times in windows.items()
    ]
    if rows:
        conn.execute(quotas.insert(), rows)


def _window(times: list[datetime], length: timedelta) -> list[datetime]:
    """The acknowledgements of the window that ends with the latest one (if that window is
    over by now, the next claim starts a new one: no clock is needed here)."""
    latest = max(times)
    return [at for at in times if at > latest - length]
