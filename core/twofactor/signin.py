"""Two-step sign-in: password first, then (if 2FA is on) an authenticator pin or a
recovery code. A face keeps the ``PendingSignIn`` between the steps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from core.accounts.passwords import burn_password_check, verify_password
from core.accounts.users import find_user
from core.clock import Clock, system_clock
from core.errors import InvalidCode, InvalidCredentials
from core.store.tables import User
from core.twofactor.enrolment import is_enabled
from core.twofactor.password_throttle import (
    begin_password_attempt,
    clear_password_failures,
    record_password_failure,
    subjects_for,
)
from core.twofactor.second_factor import RecoveryCodeUse, use_recovery_code, verify_totp


@dataclass(frozen=True)
class SignInResult:
    user: User
    complete: bool
    """False: the password was right and a second factor is still needed."""
    method: str
    """password | totp | recovery_code"""
    recovery: RecoveryCodeUse | None = None


def sign_in_password(
    session: Session,
    *,
    login: str,
    password: str,
    client: str | None = None,
    clock: Clock = system_clock,
) -> SignInResult:
    """Check username-or-email and password, throttled per account and per ``client`` (what
    the face knows of who is asking: an address, ``cli``). The same error for an unknown
    login and a wrong password, and the same time spent, so accounts cannot be enumerated.
    A failure is counted and audited (committed) before ``InvalidCredentials`` is raised;
    ``Throttled`` when the account or client must wait."""
    now = clock()
    user = find_user(session, login)
    subjects = subjects_for(login, user, client)
    begin_password_attempt(session, subjects, now)
    if user is None:
        burn_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        record_password_failure(session, subjects, user=user, client=client, now=now)
        session.commit()
        raise InvalidCredentials()
    clear_password_failures(session, user)
    return SignInResult(user=user, complete=not is_enabled(session, user), method="password")


def sign_in_second_factor(
    session: Session,
    *,
    user: User,
    totp_pin: str | None = None,
    recovery_code: str | None = None,
    clock: Clock = system_clock,
) -> SignInResult:
    """Finish a sign-in with exactly one of ``totp_pin`` or ``recovery_code``."""
    if bool(totp_pin) == bool(recovery_code):
        raise InvalidCode("Enter either the code from your authenticator app or a recovery code.")
    if totp_pin:
        verify_totp(session, user=user, pin=totp_pin, clock=clock)
        return SignInResult(user=user, complete=True, method="totp")
    use = use_recovery_code(session, user=user, code=recovery_code or "", clock=clock)
    return SignInResult(user=user, complete=True, method="recovery_code", recovery=use)


def sign_in(
    session: Session,
    *,
    login: str,
    password: str,
    totp_pin: str | None = None,
    recovery_code: str | None = None,
    client: str | None = None,
    clock: Clock = system_clock,
) -> SignInResult:
    """Both steps at once (CLI, API). Without a second factor on a 2FA account the result is
    incomplete; the caller must not treat it as signed in."""
    first = sign_in_password(session, login=login, password=password, client=client, clock=clock)
    if first.complete or not (totp_pin or recovery_code):
        return first
    return sign_in_second_factor(
        session, user=first.user, totp_pin=totp_pin, recovery_code=recovery_code, clock=clock
    )
