"""Staff rows for tests that decide tickets: decisions are authorized in ``core``, so the
acting staff member must exist, be active and have a deciding role."""

from __future__ import annotations

from sqlmodel import Session

from core.accounts.users import create_user
from core.clock import Clock
from core.store.tables import StaffMember, User


def add_staff(
    session: Session, username: str, *, clock: Clock, role: str = "agent", active: bool = True
) -> User:
    """A staff member without 2FA (tests that sign staff in use ``create_staff``)."""
    user = create_user(
        session,
        username=username,
        email=f"{username}@staff.example.org",
        password="staff password",
        clock=clock,
    )
    session.add(StaffMember(user_id=user.id, role=role, active=active, created_at=clock()))
    session.flush()
    return user
