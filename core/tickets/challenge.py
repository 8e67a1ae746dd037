"""The per-ticket proof-of-possession challenge a claimant signs with ``ssh-keygen -Y sign``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from core.settings import get_settings
from core.store.tables.tickets import Ticket

CHALLENGE_LIFETIME = timedelta(days=7)


def new_challenge(now: datetime) -> tuple[str, datetime]:
    """A fresh nonce (128 bits, hex) and its expiry, for a new ticket."""
    return secrets.token_hex(16), now + CHALLENGE_LIFETIME


def stamp(at: datetime, form: str) -> str:
    """``at.strftime(form)``, remembered: the tickets of an ingest batch share their
    challenge's expiry, which each acknowledgement prints twice."""
    return _stamp(at, at.tzinfo, at.utcoffset(), form)


@lru_cache(maxsize=64)
def _stamp(at: datetime, zone: object, offset: timedelta | None, form: str) -> str:
    """The zone and offset are part of the key: equal instants elsewhere print other
    fields."""
    return at.strftime(form)


def challenge_text(ticket: Ticket) -> str:
    """The exact text to save as ``challenge.txt`` and sign; verification rebuilds it."""
    expires = stamp(ticket.challenge_expires_at, "%Y-%m-%dT%H:%M:%SZ")
    return (
        "Hugging Face 2FA recovery challenge\n"
        f"ticket: {ticket.id}\n"
        f"nonce: {ticket.challenge_nonce}\n"
        f"expires: {expires}\n"
    )


def signing_command() -> str:
    namespace = get_settings().sshsig_namespace
    return f"ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n {namespace} challenge.txt"
