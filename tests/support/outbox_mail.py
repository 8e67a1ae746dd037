"""What a recipient reads of an outbox row: the plain and HTML bodies of the message the
sender builds for the wire (``core.mail.message``), sealed bodies opened on the way, so a
test reads a link the way its user does."""

from __future__ import annotations

from core.mail.message import build_message
from core.store.tables import OutboxEmail


def delivered_bodies(row: OutboxEmail) -> tuple[str, str]:
    """(plain text, HTML) of ``row`` as delivered."""
    message = build_message(row)
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def delivered_text(row: OutboxEmail) -> str:
    return delivered_bodies(row)[0]
