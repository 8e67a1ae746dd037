"""Creating and managing staff accounts on top of the Hub's own accounts and 2FA core.

A staff member is a ``User`` row (password, TOTP) plus a ``StaffMember`` row (role, active).
``create_staff`` turns TOTP on at once: the operator creating the account runs the
enrolment server-side and hands the secret to the new staff member over a trusted channel,
so there is never a window in which a staff account signs in with a password alone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core.accounts.users import create_user
from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidInput, NotFound
from core.staff.authorization import authorize_actor
from core.staff.identity import StaffIdentity, identity_of
from core.store.tables import StaffMember, User
from core.store.tables.staff import STAFF_ROLES
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.totp import code_at_step, time_step


@dataclass(frozen=True)
class StaffEnrolment:
    """What the operator passes on once: the TOTP secret and its otpauth URI."""

    username: str
    email: str
    role: str
    secret: str
    uri: str
    recovery_codes: list[str]


def _check_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise InvalidInput(f"A role is one of {', '.join(STAFF_ROLES)}; not {role!r}.")
    return role


def create_staff(
    session: Session,
    *,
    username: str,
    email: str,
    role: str,
    password: str,
    created_by: str = "system",
    clock: Clock = system_clock,
) -> StaffEnrolment:
    """Create the user and staff rows and turn TOTP on (confirmed server-side with a code
    derived from the fresh secret). The confirming code is the previous time step's, which the
    2FA core accepts, so the code the staff member reads right now is still unused.
    ``created_by`` is an admin (``staff:NAME``, verified now) or the operator's shell."""
    _check_role(role)
    created_by = authorize_actor(session, created_by, "staff.manage")
    user = create_user(session, username=username, email=email, password=password, clock=clock)
    provisioning = begin_enrolment(session, user=user, clock=clock)
    codes = confirm_enrolment(
        session,
        user=user,
        pin=code_at_step(provisioning.secret, time_step(clock()) - 1),
        clock=clock,
    )
    session.add(StaffMember(user_id=user.id, role=role, created_at=clock(), created_by=created_by))
    record_event(
        session,
        action="staff.created",
        actor=created_by,
        user_id=user.id,
        details={"username": user.username, "role": role},
        clock=clock,
    )
    session.flush()
    return StaffEnrolment(
        username=user.username,
        email=user.email,
        role=role,
        secret=provisioning.secret,
        uri=provisioning.uri,
        recovery_codes=codes.codes,
    )


def active_staff(session: Session, user_id: int) -> StaffIdentity | None:
    """The staff member for ``user_id`` if the account is still active, else None; the app
    calls this on every run so a deactivation or role change takes effect at once."""
    row = session.exec(
        select(User, StaffMember)
        .join(StaffMember, StaffMember.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None or not row[1].active:
        return None
    return identity_of(*row)


def list_staff(session: Session) -> list[tuple[StaffIdentity, bool]]:
    """Every staff member with their active flag, by username."""
    rows = session.exec(
        select(User, StaffMember)
        .join(StaffMember, StaffMember.user_id == User.id)
        .order_by(User.username)
    )
    return [(identity_of(user, member), member.active) for user, member in rows]


def update_staff(
    session: Session,
    *,
    username: str,
    actor: str,
    role: str | None = None,
    active: bool | None = None,
    clock: Clock = system_clock,
) -> StaffIdentity:
    """Change a staff member's role and/or active flag, with an audit row. ``actor`` is an
    admin (``staff:NAME``, verified now) or the operator's shell (``cli``); else ``Forbidden``."""
    row = session.exec(
        select(User, StaffMember)
        .join(StaffMember, StaffMember.user_id == User.id)
        .where(User.username == username)
    ).first()
    if row is None:
        raise NotFound(f"No staff member is called {username!r}.")
    actor = authorize_actor(session, actor, "staff.manage")
    user, member = row
    changes: dict[str, object] = {}
    if role is not None and role != member.role:
        member.role = _check_role(role)
        changes["role"] = role
    if active is not None and active != member.active:
        member.active = active
        changes["active"] = active
    if changes:
        session.add(member)
        record_event(
            session,
            action="staff.updated",
            actor=actor,
            user_id=user.id,
            details={"username": user.username, **changes},
            clock=clock,
        )
    return identity_of(user, member)
