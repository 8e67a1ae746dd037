"""Password reset by email: a single-use link to the address on file, then a new password
(plus a TOTP or recovery code when 2FA is on).

The token is ``secrets.token_urlsafe(32)`` and is stored only as a keyed hash; a link dies
when used, after ``password_reset_link_minutes``, when a newer link is sent, or when the
password changes by any path (the row keeps a keyed hash of the password hash it was issued
against). Asking for a link gives the same answer, after the same work, whether or not an
account uses the address, so the page cannot be used to find accounts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from core.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from core.accounts.users import normalize_email
from core.audit import record_event
from core.clock import Clock, system_clock
from core.encryption import derived_key
from core.errors import DomainError, InvalidCode, InvalidInput
from core.mail.outbox import outbox_values
from core.settings import get_settings
from core.store.tables import OutboxEmail, PasswordResetLink, User
from core.store.types import UTCDateTime
from core.twofactor.enrolment import is_enabled
from core.twofactor.notifications import security_event
from core.twofactor.second_factor import use_recovery_code, verify_totp

RESET_PAGE = "forgot-password"
"""The portal page's URL path; the link is ``{portal_url}/{RESET_PAGE}?token=...``."""
TOKEN_PARAM = "token"
PUBLIC_ANSWER = (
    "If an account uses that address, we have sent it a link to reset the password. "
    "The link works once, within {minutes} minutes."
)
_PLACEHOLDER_USER = "there"
ANSWER_FLOOR_SECONDS = 0.25
"""A request is answered no sooner than this: storing a link and queueing its email (known
address) costs a few ms more than the audit row alone (unknown address), a difference a
patient attacker could measure; both paths finish well inside it."""


class InvalidResetLink(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "This reset link does not work any more: it was already used, it expired, a newer "
            "link was sent, or the password changed since. Ask for a new link."
        )


def _keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 under a key derived from the app's secret key: a stolen database alone
    cannot turn a stored hash back into a working link, nor test guesses offline."""
    key = derived_key(b"backoffice password-reset links")
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return _keyed_hash("token", token)


def password_marker(password_hash: str) -> str:
    return _keyed_hash("password", password_hash)


def public_answer() -> str:
    """What the requester sees, whatever the address."""
    return PUBLIC_ANSWER.format(minutes=get_settings().password_reset_link_minutes)


def password_reset_page_url() -> str:
    """The portal's *Forgot password?* page (the approval email links to it)."""
    return f"{get_settings().portal_url.rstrip('/')}/{RESET_PAGE}"


def reset_url(token: str) -> str:
    return f"{password_reset_page_url()}?{urlencode({TOKEN_PARAM: token})}"


def _link_email(*, to: str, username: str, token: str, user_id: int | None, clock: Clock) -> dict:
    settings = get_settings()
    return outbox_values(
        template="password_reset_link",
        to=to,
        context={
            "username": username,
            "reset_url": reset_url(token),
            "expires_minutes": settings.password_reset_link_minutes,
            "hub_url": settings.hub_url,
            "portal_url": settings.portal_url,
            "support_address": settings.support_address,
        },
        user_id=user_id,
        auto_submitted="auto-generated",
        clock=clock,
        sealed=True,  # the link resets the password: it is stored encrypted
    )


def _store_link(session: Session, *, user: User, hashed: str, clock: Clock) -> bool:
    """Replace the account's link unless one was sent less than the resend cooldown ago; one
    conditional upsert, so two concurrent requests send at most one email."""
    settings = get_settings()
    now = clock()
    table = PasswordResetLink.__table__
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    values: dict[str, Any] = {
        "user_id": user.id,
        "token_hash": hashed,
        "password_marker": password_marker(user.password_hash),
        "created_at": now,
        "expires_at": now + timedelta(minutes=settings.password_reset_link_minutes),
        "used_at": None,
    }
    cooled = now - timedelta(seconds=settings.password_reset_resend_seconds)
    stmt = (
        insert.values(values)
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={k: insert.excluded[k] for k in values if k != "user_id"},
            where=table.c.created_at <= literal(cooled, UTCDateTime()),
        )
        .returning(table.c.user_id)
    )
    return session.execute(stmt).first() is not None


def send_reset_link(
    session: Session, *, user: User | None, actor: str, clock: Clock = system_clock
) -> bool:
    """Email a fresh link to ``user``'s address on file; with ``user`` None, do the same work
    (token, hash, rendering, audit row) and send nothing. Returns whether an email was
    queued: False for no account or within the resend cooldown. Faces must not show it."""
    token = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    email = _link_email(
        to=user.email if user else "nobody@invalid.example",
        username=user.username if user else _PLACEHOLDER_USER,
        token=token,
        user_id=user.id if user else None,
        clock=clock,
    )
    sent = user is not None and _store_link(session, user=user, hashed=hashed, clock=clock)
    if sent:
        session.add(OutboxEmail(**email))
    record_event(
        session,
        action="password.reset_link_sent" if sent else "password.reset_link_not_sent",
        actor=actor,
        user_id=user.id if user else None,
        details={"reason": "sent" if sent else ("cooldown" if user else "no account")},
        clock=clock,
    )
    return sent


@contextmanager
def answer_no_sooner_than(seconds: float = ANSWER_FLOOR_SECONDS) -> Iterator[None]:
    """Wrap the whole unit of work (commit included) of a reset request, so the face's
    answer leaves after the same delay whatever the address."""
    deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        time.sleep(max(0.0, deadline - time.monotonic()))


def request_password_reset(session: Session, *, email: str, clock: Clock = system_clock) -> str:
    """The portal's *Forgot password?*: look the address up and send a link if it is an
    account's; returns the public answer, identical either way."""
    address = normalize_email(email)
    user = session.exec(select(User).where(User.email == address)).first()
    send_reset_link(session, user=user, actor="anonymous:portal", clock=clock)
    return public_answer()


@dataclass(frozen=True)
class ResetLink:
    """What the reset page shows before the new password is chosen."""

    username: str
    needs_second_factor: bool


def _live_link(session: Session, token: str, clock: Clock) -> tuple[PasswordResetLink, User]:
    if not token or len(token) > 200:
        raise InvalidResetLink()
    link = session.exec(
        select(PasswordResetLink).where(PasswordResetLink.token_hash == token_hash(token))
    ).first()
    user = session.get(User, link.user_id) if link is not None else None
    if (
        link is None
        or user is None
        or link.used_at is not None
        or link.expires_at <= clock()
        or not hmac.compare_digest(link.password_marker, password_marker(user.password_hash))
    ):
        raise InvalidResetLink()
    return link, user


def inspect_reset_link(session: Session, *, token: str, clock: Clock = system_clock) -> ResetLink:
    """The account a live link is for, and whether it asks for a second factor."""
    _link, user = _live_link(session, token, clock)
    return ResetLink(username=user.username, needs_second_factor=is_enabled(session, user))


def complete_password_reset(
    session: Session,
    *,
    token: str,
    new_password: str,
    totp_pin: str | None = None,
    recovery_code: str | None = None,
    clock: Clock = system_clock,
) -> User:
    """Set the new password through a live link. With 2FA on, exactly one of ``totp_pin`` or
    ``recovery_code`` must pass first (throttled like sign-in; a failure keeps the link).
    The link is spent and the password changed by conditional UPDATEs, so of two concurrent
    uses one wins; the owner is emailed."""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    link, user = _live_link(session, token, clock)
    method = "email"
    if is_enabled(session, user):
        if bool(totp_pin) == bool(recovery_code):
            raise InvalidCode(
                "Two-factor authentication is on: enter the code from your authenticator app "
                "or one of your recovery codes."
            )
        if totp_pin:
            verify_totp(session, user=user, pin=totp_pin, clock=clock)
            method = "email+totp"
        else:
            use_recovery_code(session, user=user, code=recovery_code or "", clock=clock)
            method = "email+recovery_code"
    now = clock()
    old_hash = user.password_hash
    spent = session.execute(
        update(PasswordResetLink)
        .where(
            PasswordResetLink.user_id == user.id,
            PasswordResetLink.token_hash == link.token_hash,
            PasswordResetLink.used_at.is_(None),
            PasswordResetLink.password_marker == password_marker(old_hash),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = spent.rowcount == 1 and (
        session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == old_hash)
            .values(password_hash=hash_password(new_password))
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if not changed:
        raise InvalidResetLink()
    session.expire(user)
    security_event(
        session,
        user=user,
        action="password.reset",
        actor=f"user:{user.username}",
        email_template="password_changed",
        details={"method": method},
        clock=clock,
    )
    return user
