"""Staff sessions that outlive a browser tab: ``start_session`` hands the face a random token
for a cookie and stores only its SHA-256; ``resume_session`` turns a presented token back into
the staff member while the session is unrevoked, within its idle window and absolute
lifetime, and the member is still active (so a deactivation ends it on the next request).

The token is the only thing the browser holds; it is bound to one staff member by the row,
and revoking the row (sign-out, or every row of a deactivated member) ends it server-side
whatever the cookie says."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from core.clock import Clock, system_clock
from core.settings import get_settings
from core.staff.accounts import StaffIdentity, active_staff
from core.store.tables import StaffSession

TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime() -> timedelta:
    """The absolute lifetime of a session (and of its cookie)."""
    return timedelta(hours=get_settings().staff_session_max_hours)


def start_session(session: Session, *, staff: StaffIdentity, clock: Clock = system_clock) -> str:
    """A new session for a staff member who just completed both sign-in steps; returns the
    token (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock()
    session.add(
        StaffSession(
            token_hash=_hash(token),
            user_id=staff.user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + session_lifetime(),
        )
    )
    session.flush()
    return token


def resume_session(
    session: Session, *, token: str, clock: Clock = system_clock
) -> StaffIdentity | None:
    """The staff member behind ``token`` if the session is still good, touching its
    last-seen time with a conditional UPDATE (so two tabs never resurrect an idle session);
    None otherwise."""
    if not token or len(token) > 128:
        return None
    now = clock()
    idle = timedelta(minutes=get_settings().staff_session_idle_minutes)
    touched = session.execute(
        update(StaffSession)
        .where(
            StaffSession.token_hash == _hash(token),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at >= now - idle,
        )
        .values(last_seen_at=now)
        .returning(StaffSession.user_id)
    ).first()
    if touched is None:
        return None
    staff = active_staff(session, touched[0])
    if staff is None:
        revoke_staff_sessions(session, user_id=touched[0], clock=clock)
    return staff


def end_session(session: Session, *, token: str, clock: Clock = system_clock) -> None:
    """Sign-out: the token stops working everywhere at once."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock())
    )


def revoke_staff_sessions(session: Session, *, user_id: int, clock: Clock = system_clock) -> int:
    """End every session of one staff member (deactivation, role change); returns how many."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock())
    )
    return result.rowcount


def open_sessions(session: Session, *, user_id: int) -> int:
    """How many unrevoked session rows a member has (for tests and the Staff page)."""
    rows = session.exec(
        select(StaffSession.id).where(
            StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None)
        )
    ).all()
    return len(rows)
