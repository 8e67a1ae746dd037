"""Whether the outbox certainly holds nothing to send now, asked before the sender (and
SQLAlchemy, aiosmtplib, the tables) is loaded: ``backoffice outbox send`` run by cron
mostly finds nothing, and saying so costs one driver query instead of those imports.
The sender's claim stays the one path that decides and sends; this only lets a run skip
it, and ``tests/core/mail/test_outbox_due.py`` holds both to the same rows."""

from __future__ import annotations

from datetime import datetime

from core.clock import system_clock
from core.store.probe import probe

# the sender's claim predicate (``OutboxSender._claim``): queued and due, or a lease run out
_ANY_DUE = (
    "SELECT 1 FROM outbox_emails"
    " WHERE (status = 'queued' AND next_attempt_at <= ?)"
    " OR (status = 'sending' AND claimed_until < ?)"
    " LIMIT 1"
)


def nothing_due(url: str, now: datetime | None = None) -> bool:
    """True only when the database at ``url`` is at this code's schema and no outbox email
    is due at ``now`` (default: the system clock); False when one is, or when it cannot
    tell (then the caller runs the sender, which creates, upgrades or reports)."""
    now = now or system_clock()
    answer = False
    with probe(url) as found:
        if found is not None:
            answer = found.first(_ANY_DUE, now, now) is None
    return answer
