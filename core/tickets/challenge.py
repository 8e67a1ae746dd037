"""The per-ticket proof-of-possession challenge a claimant signs with ``ssh-keygen -Y sign``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from core.settings import get_settings
from core.store.tables.tickets import Ticket

CHALLENGE_LIFETIME = timedelta(days=7)


def new_challenge(now: datetime) -> tuple[str, datetime]:
    """A fresh nonce (128 bits, hex) and its expiry, for a new ticket."""
    return secrets.token_hex(16), now + CHALLENGE_LIFETIME


def challenge_text(ticket: Ticket) -> str:
    """The exact text to save as ``challenge.txt`` and sign; verification rebuilds it."""
    expires = ticket.challenge_expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "Hugging Face 2FA recovery challenge\n"
        f"ticket: {ticket.id}\n"
        f"nonce: {ticket.challenge_nonce}\n"
        f"expires: {expires}\n"
    )


def signing_command() -> str:
    namespace = get_settings().sshsig_namespace
    return f"ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n {namespace} challenge.txt"
