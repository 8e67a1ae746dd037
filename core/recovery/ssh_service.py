"""The rules of recovery over SSH: who a public key names, the account password as the
second proof, and a fresh set of recovery codes (old ones die) audited and emailed.

GitLab's ``2fa_recovery_codes`` trusts the key alone; a key is often kept on several
machines and copied without care, so here the account's password must follow it. Every
function takes a Session and a clock like the rest of the core; the SSH server only calls
these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core.accounts.ssh_keys import fingerprint_sha256
from core.clock import Clock, system_clock
from core.errors import DomainError
from core.settings import get_settings
from core.store.tables import SshKey, User
from core.twofactor import recovery_codes
from core.twofactor.enrolment import RecoveryCodeSet, is_enabled
from core.twofactor.notifications import security_event
from core.twofactor.password_throttle import check_password as throttled_password_check

LOGIN_NAME = "recovery"
"""``ssh recovery@host``; an account's own username is accepted too, if the key is its."""


class KeyRefused(DomainError):
    """The key names no single account with a live key; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__("This SSH key is not registered on any account.")


@dataclass(frozen=True)
class KeyOwner:
    """The account a presented key belongs to (a read model: no ORM row leaves the core)."""

    user_id: int
    username: str
    fingerprint: str


def identify_key(session: Session, *, login: str, key_blob: bytes) -> KeyOwner:
    """The one account holding this key, live. Refused: an unknown key, a revoked one, one
    found on two accounts (the unique fingerprint forbids it; checked all the same, since a
    key shared between people proves nobody), and a login naming another account."""
    fingerprint = fingerprint_sha256(key_blob)
    rows = session.exec(
        select(SshKey, User)
        .join(User, User.id == SshKey.user_id)
        .where(SshKey.fingerprint_sha256 == fingerprint)
    ).all()
    if not rows:
        raise KeyRefused("unknown key")
    if len({key.user_id for key, _ in rows}) > 1:
        raise KeyRefused("key on several accounts")
    key, user = rows[0]
    if key.revoked_at is not None:
        raise KeyRefused("revoked key")
    if login != LOGIN_NAME and login.lower() != user.username.lower():
        raise KeyRefused("key of another account")
    return KeyOwner(user_id=user.id, username=user.username, fingerprint=fingerprint)


def check_password(
    session: Session,
    *,
    owner: KeyOwner,
    password: str,
    client: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """The key's account password through the one throttled password check sign-in uses:
    the same counts per account and per ``client`` (``ssh:ADDRESS``), a failure counted,
    audited and committed before ``InvalidCredentials``, so a dropped connection does not
    reset the count."""
    user = session.get(User, owner.user_id)
    throttled_password_check(
        session, login=owner.username, user=user, password=password, client=client, clock=clock
    )


def replace_recovery_codes(
    session: Session, *, owner: KeyOwner, clock: Clock = system_clock
) -> RecoveryCodeSet | None:
    """A fresh set of recovery codes for an account with 2FA on (every old code dies),
    audited and emailed to the owner; None when 2FA is off (nothing to replace)."""
    user = session.get(User, owner.user_id)
    if user is None or not is_enabled(session, user):
        return None
    now = clock()
    codes = recovery_codes.replace_codes(
        session, user_id=user.id, count=get_settings().recovery_code_count, now=now
    )
    security_event(
        session,
        user=user,
        action="2fa.recovery_codes_replaced_over_ssh",
        actor=f"user:{user.username}",
        email_template="recovery_codes_replaced_over_ssh",
        details={"fingerprint": owner.fingerprint, "codes": len(codes)},
        clock=clock,
    )
    return RecoveryCodeSet(username=user.username, codes=codes, generated_at=now)


def session_text(owner: KeyOwner, codes: RecoveryCodeSet | None) -> str:
    """What the SSH session prints (CRLF line ends: a pty may be attached)."""
    if codes is None:
        lines = [
            f"Two-factor authentication is not on for {owner.username}: there are no "
            "recovery codes to replace.",
            "Sign in with your password at the Hub and turn it on in Settings > Authentication.",
        ]
    else:
        lines = [
            f"New recovery codes for {owner.username}. Every earlier code has stopped working.",
            "Each code works once. Save them now (a password manager, or print them):",
            "",
            *codes.codes,
            "",
            "The account's email address has been told about this.",
        ]
    return "\r\n".join(lines) + "\r\n"
