"""Access tokens quoted in a ticket (stored only as a hash), matched against the account's."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.accounts.tokens import find_token_by_hash
from core.store.tables import AccessToken, Evidence, User
from core.verification.report import Check


def check_token(
    session: Session, evidence: Evidence, user: User, now: datetime
) -> tuple[Check, AccessToken | None, int | None]:
    """The check for one ``token`` evidence row, the account's token it names (active or
    not, so approval can revoke it), and the id of another account owning it."""
    masked = evidence.value
    token = find_token_by_hash(session, evidence.token_hash) if evidence.token_hash else None
    if token is None:
        return Check("token", "fail", f"Token {masked} is unknown.", evidence.id), None, None
    if token.user_id != user.id:
        reason = f"Token {masked} belongs to another account."
        return Check("token", "fail", reason, evidence.id), None, token.user_id
    if token.revoked_at is not None:
        reason = f"Token {masked} was revoked on {token.revoked_at:%Y-%m-%d}."
        return Check("token", "fail", reason, evidence.id), token, None
    if token.expires_at is not None and token.expires_at <= now:
        reason = f"Token {masked} expired on {token.expires_at:%Y-%m-%d}."
        return Check("token", "fail", reason, evidence.id), token, None
    reason = f"Token {masked} ({token.name!r}) is a valid token of the account."
    return Check("token", "pass", reason, evidence.id), token, None
