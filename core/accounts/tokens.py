"""Personal access tokens: ``hf_`` + 34 letters, shown once, stored as SHA-256 + last 4."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidInput, NotFound
from core.store.tables import AccessToken, User

TOKEN_PREFIX = "hf_"
TOKEN_LETTERS = string.ascii_letters
TOKEN_BODY_LENGTH = 34
TOKEN_RE = re.compile(r"hf_[A-Za-z]{34}")
"""Matches a token inside text; callers check word boundaries where it matters."""


def hash_token(token: str) -> str:
    """SHA-256 hex; a token has ~194 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def mask_token(last4: str) -> str:
    return f"hf_…{last4}"


def redact_tokens(text: str) -> str:
    """Replace every access token in ``text`` with its masked form (last 4 kept)."""
    return TOKEN_RE.sub(lambda m: mask_token(m.group(0)[-4:]), text)


@dataclass(frozen=True)
class IssuedToken:
    token: AccessToken
    plaintext: str
    """Shown to the user once; never stored."""


def issue_token(
    session: Session,
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    clock: Clock = system_clock,
) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A token needs a name of 1 to 100 characters.")
    plaintext = TOKEN_PREFIX + "".join(
        secrets.choice(TOKEN_LETTERS) for _ in range(TOKEN_BODY_LENGTH)
    )
    row = AccessToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plaintext),
        last4=plaintext[-4:],
        created_at=clock(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        action="token.issued",
        actor=f"user:{user.username}",
        user_id=user.id,
        details={"token_id": row.id, "name": name, "last4": row.last4},
        clock=clock,
    )
    return IssuedToken(token=row, plaintext=plaintext)


def revoke_token(
    session: Session,
    *,
    user: User,
    token_id: int,
    actor: str | None = None,
    reason: str = "revoked by the owner",
    ticket_id: int | None = None,
    clock: Clock = system_clock,
) -> AccessToken:
    row = session.get(AccessToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"{user.username} has no token with id {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = clock()
        row.revoked_reason = reason
        session.add(row)
        record_event(
            session,
            action="token.revoked",
            actor=actor or f"user:{user.username}",
            user_id=user.id,
            ticket_id=ticket_id,
            details={"token_id": row.id, "last4": row.last4, "reason": reason},
            clock=clock,
        )
    return row


def find_token_by_hash(session: Session, token_hash: str) -> AccessToken | None:
    return session.exec(select(AccessToken).where(AccessToken.token_hash == token_hash)).first()


def token_is_active(token: AccessToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def authenticate_token(
    session: Session, plaintext: str, *, clock: Clock = system_clock
) -> AccessToken | None:
    """The active token matching ``plaintext``, with its last use recorded; else None."""
    if not TOKEN_RE.fullmatch(plaintext):
        return None
    row = find_token_by_hash(session, hash_token(plaintext))
    now = clock()
    if row is None or not token_is_active(row, now):
        return None
    row.last_used_at = now
    session.add(row)
    return row


def list_tokens(session: Session, user: User) -> list[AccessToken]:
    return list(
        session.exec(
            select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.id)
        )
    )
