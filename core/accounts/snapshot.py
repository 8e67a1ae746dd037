"""What staff see of a Hub account while deciding a ticket: 2FA state, keys with
fingerprints, tokens (masked) and recent security history in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.accounts.ssh_keys import list_ssh_keys
from core.accounts.tokens import list_tokens, mask_token, token_is_active
from core.audit_labels import actor_label, event_label
from core.store.tables import User
from core.twofactor import two_factor_status


@dataclass(frozen=True)
class KeyLine:
    key_type: str
    fingerprint: str
    comment: str
    added_at: datetime


@dataclass(frozen=True)
class TokenLine:
    masked: str
    name: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class EventLine:
    at: datetime
    what: str
    by: str


@dataclass(frozen=True)
class AccountSnapshot:
    user_id: int
    username: str
    email: str
    created_at: datetime
    two_factor: str
    """"On", "Off" or "Set-up started"."""
    recovery_codes_left: int | None
    ssh_keys: list[KeyLine]
    tokens: list[TokenLine]
    events: list[EventLine]


def account_snapshot(session: Session, user_id: int, *, now: datetime) -> AccountSnapshot | None:
    """The account behind ``user_id``, or None if it no longer exists."""
    user = session.get(User, user_id)
    if user is None:
        return None
    status = two_factor_status(session, user)
    return AccountSnapshot(
        user_id=user.id,
        username=user.username,
        email=user.email,
        created_at=user.created_at,
        two_factor="On" if status.enabled else ("Set-up started" if status.pending else "Off"),
        recovery_codes_left=status.recovery_codes_left if status.enabled else None,
        ssh_keys=[
            KeyLine(k.key_type, k.fingerprint_sha256, k.comment, k.created_at)
            for k in list_ssh_keys(session, user)
        ],
        tokens=[
            TokenLine(
                mask_token(t.last4), t.name, token_is_active(t, now), t.created_at, t.revoked_at
            )
            for t in list_tokens(session, user)
        ],
        events=[
            EventLine(e.at, event_label(e.action), actor_label(e.actor, owner=user.username))
            for e in status.recent_events
        ],
    )
