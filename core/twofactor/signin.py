"""Two-step sign-in: password first, then (if 2FA is on) an authenticator pin or a
recovery code. A face keeps the ``PendingSignIn`` between the steps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from core.accounts.users import find_user
from core.clock import Clock, system_clock
from core.errors import InvalidCode
from core.store.tables import User
from core.twofactor.enrolment import is_enabled
from core.twofactor.password_throttle import check_password
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
    user = find_user(session, login)
    check_password(session, login=login, user=user, password=password, client=client, clock=clock)
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
