"""Personal access tokens: ``hf_`` + 34 letters, shown once, stored as a keyed hash + last 4.

The hash is HMAC-SHA256 over the token's SHA-256, with a key derived from the server's
secret (``BACKOFFICE_SECRET_KEY`` or the key file), which is not in the database: a dump
alone cannot be searched for a token offline. Hashing the SHA-256 (not the token) is what
let migration 0008 key the hashes stored before, without the tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.accounts.token_text import FoundToken, find_tokens, mask_found
from core.audit import record_event
from core.clock import Clock, system_clock
from core.encryption import derived_key
from core.errors import InvalidInput, NotFound
from core.store.tables import AccessToken, User

TOKEN_PREFIX = "hf_"
TOKEN_LETTERS = string.ascii_letters
TOKEN_BODY_LENGTH = 34
TOKEN_RE = re.compile(r"hf_[A-Za-z]{34}")
"""The exact form of a token; ``find_tokens`` finds the disguised ones too."""
HASH_SCHEME = "k1$"
"""Prefix of a keyed hash, so migration 0008 converts each stored hash exactly once."""
HASH_KEY_LABEL = b"backoffice access-token hashes"


def keyed_hash(sha256_hex: str) -> str:
    """The stored form of a token whose SHA-256 (hex) is ``sha256_hex``."""
    mac = hmac.new(derived_key(HASH_KEY_LABEL), sha256_hex.encode("ascii"), hashlib.sha256)
    return HASH_SCHEME + base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def hash_token(token: str) -> str:
    """The keyed hash a token is stored and looked up by (see the module docstring)."""
    return keyed_hash(hashlib.sha256(token.encode("ascii")).hexdigest())


def mask_token(last4: str) -> str:
    return f"hf_…{last4}"


def redact_tokens(text: str) -> str:
    """Replace every access token in ``text``, disguised or not (``find_tokens``), with its
    masked form (last 4 kept)."""
    return mask_found(text, lambda found: mask_token(found.last4))


def tokens_in(text: str) -> list[FoundToken]:
    """The tokens a person wrote in ``text``, for verification (hash each ``.token``)."""
    return find_tokens(text)


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
