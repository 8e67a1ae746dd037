"""Who may do what, decided in ``core`` for every face: an action names the staff member
acting, and ``authorize`` re-reads that member in the caller's transaction (exists, active,
role allows the action) or raises ``Forbidden``. Faces pass what they know (a signed-in
``StaffIdentity``, the CLI's ``--as NAME``, an audit actor ``staff:NAME``); none is trusted
as is, so a deactivation or role change takes effect on the next action."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from core.errors import Forbidden
from core.staff.identity import StaffIdentity, identity_of
from core.staff.roles import ROLE_ACTIONS
from core.store.tables import StaffMember, User

ACTOR_PREFIX = "staff:"
SYSTEM_ACTORS = frozenset({"cli", "system"})
"""Actors that are the operator at the server's shell (bootstrap, maintenance), not staff."""

StaffRef = StaffIdentity | str
"""A signed-in identity, a username, or an audit actor ``staff:NAME``."""


def staff_username(staff: StaffRef) -> str:
    if isinstance(staff, StaffIdentity):
        return staff.username
    name = staff.strip()
    return name[len(ACTOR_PREFIX) :] if name.startswith(ACTOR_PREFIX) else name


def authorize(session: Session, staff: StaffRef, action: str) -> StaffIdentity:
    """The acting staff member, verified now: exists, active and in a role that may perform
    ``action`` (a key of ``ROLE_ACTIONS``); else ``Forbidden`` naming what is missing."""
    allowed = ROLE_ACTIONS[action]
    name = staff_username(staff)
    condition = (
        User.id == staff.user_id
        if isinstance(staff, StaffIdentity)
        else func.lower(User.username) == name.lower()
    )
    row = session.exec(
        select(User, StaffMember).join(StaffMember, StaffMember.user_id == User.id).where(condition)
    ).first()
    if row is None:
        raise Forbidden(f"{name!r} is not a staff member.")
    user, member = row
    if not member.active:
        raise Forbidden(f"Staff member {user.username!r} is deactivated.")
    if member.role not in allowed:
        raise Forbidden(
            f"Staff member {user.username!r} ({member.role}) may not {action.replace('_', ' ')};"
            f" that needs {' or '.join(sorted(allowed))}."
        )
    return identity_of(user, member)


def authorize_actor(session: Session, actor: str, action: str) -> str:
    """``actor`` for an audit row: a system actor (the operator's shell) as is, anything
    else must be a staff member allowed ``action`` and comes back as ``staff:NAME``."""
    if actor in SYSTEM_ACTORS:
        return actor
    return authorize(session, actor, action).actor
