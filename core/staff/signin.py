"""Staff sign-in: the Hub's two-step sign-in (password, then TOTP) limited to active staff,
and the inactivity rule that ends a staff session."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidCredentials
from core.settings import get_settings
from core.staff.accounts import StaffIdentity, active_staff
from core.store.tables import User
from core.twofactor import sign_in_password, sign_in_second_factor


def staff_sign_in_password(
    session: Session,
    *,
    login: str,
    password: str,
    client: str | None = None,
    clock: Clock = system_clock,
) -> StaffIdentity:
    """First step, throttled like every sign-in (per account and per ``client``). A
    non-staff or deactivated account gets the same error as a wrong password, so the login
    page reveals nothing about who is staff."""
    result = sign_in_password(session, login=login, password=password, client=client, clock=clock)
    staff = active_staff(session, result.user.id)
    if staff is None:
        raise InvalidCredentials()
    return staff


def staff_sign_in_second_factor(
    session: Session, *, staff: StaffIdentity, pin: str, clock: Clock = system_clock
) -> StaffIdentity:
    """Second step: a current authenticator code (throttled and replay-safe by the 2FA
    core). Staff cannot fall back to recovery codes: an admin re-creates a lost enrolment."""
    current = active_staff(session, staff.user_id)
    if current is None:
        raise InvalidCredentials()
    user = session.get(User, staff.user_id)
    sign_in_second_factor(session, user=user, totp_pin=pin, clock=clock)
    record_event(
        session,
        action="staff.signed_in",
        actor=current.actor,
        user_id=current.user_id,
        clock=clock,
    )
    return current


def session_expired(last_seen: datetime, *, clock: Clock = system_clock) -> bool:
    """True when a staff session has been idle longer than the configured limit."""
    idle = timedelta(minutes=get_settings().staff_session_idle_minutes)
    return clock() - last_seen > idle
