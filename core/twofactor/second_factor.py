"""Checking a second factor (authenticator pin or recovery code) under the throttle.

A failed attempt is committed before the error is raised: the count must survive the
caller's rollback, or an attacker could guess for free."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from core.clock import Clock, system_clock
from core.encryption import decrypt_secret
from core.errors import InvalidCode, TwoFactorStateError
from core.settings import get_settings
from core.store.tables import TotpRegistration, User
from core.twofactor import recovery_codes, totp
from core.twofactor.notifications import security_event
from core.twofactor.throttle import Kind, begin_attempt, clear_failures, record_failure


def _fail(session: Session, user: User, clock: Clock, message: str, kind: Kind) -> InvalidCode:
    record_failure(session, user, clock(), kind)
    session.commit()
    return InvalidCode(message)


def verify_totp(session: Session, *, user: User, pin: str, clock: Clock = system_clock) -> None:
    """Accept ``pin`` once for its time step, or raise ``InvalidCode``/``Throttled``."""
    now = clock()
    begin_attempt(session, user.id, now, "totp")
    reg = session.get(TotpRegistration, user.id, populate_existing=True)
    if reg is None or reg.confirmed_at is None:
        raise TwoFactorStateError("Two-factor authentication is not on for this account.")
    try:
        normalized = totp.normalize_pin(pin)
    except InvalidCode as exc:
        raise _fail(session, user, clock, str(exc), "totp") from None
    step = totp.matching_step(decrypt_secret(reg.secret_encrypted), normalized, now)
    if step is None:
        raise _fail(session, user, clock, "That code is not correct.", "totp")
    if not totp.claim_step(session, user.id, step):
        raise _fail(
            session, user, clock, "That code was already used; wait for the next one.", "totp"
        )
    clear_failures(session, user.id)


@dataclass(frozen=True)
class RecoveryCodeUse:
    remaining: int
    low: bool


def use_recovery_code(
    session: Session, *, user: User, code: str, clock: Clock = system_clock
) -> RecoveryCodeUse:
    """Spend one recovery code (exactly once, even under concurrency) and tell the owner.
    Judged by the recovery-code throttle, so a lock on authenticator codes leaves it open."""
    now = clock()
    begin_attempt(session, user.id, now, "recovery")
    try:
        ok = recovery_codes.consume_code(session, user_id=user.id, code=code, now=now)
    except InvalidCode as exc:
        raise _fail(session, user, clock, str(exc), "recovery") from None
    if not ok:
        raise _fail(
            session, user, clock, "That recovery code is not valid or was already used.", "recovery"
        )
    clear_failures(session, user.id)
    remaining = recovery_codes.remaining_codes(session, user_id=user.id)
    security_event(
        session,
        user=user,
        action="2fa.recovery_code_used",
        actor=f"user:{user.username}",
        email_template="recovery_code_used",
        details={"remaining": remaining},
        clock=clock,
    )
    return RecoveryCodeUse(
        remaining=remaining, low=remaining <= get_settings().recovery_codes_low_warning
    )
