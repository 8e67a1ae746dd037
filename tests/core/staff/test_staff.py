"""Staff accounts on the 2FA core: creation turns TOTP on; sign-in needs password and code."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from core.accounts.users import create_user
from core.errors import InvalidCode, InvalidCredentials, InvalidInput
from core.staff import (
    active_staff,
    can_decide,
    create_staff,
    list_staff,
    pages_for,
    session_expired,
    staff_sign_in_password,
    staff_sign_in_second_factor,
    update_staff,
)
from core.store import session_scope
from core.twofactor import is_enabled
from tests.support.staff_members import add_staff

PASSWORD = "staff password 123"


@pytest.fixture
def admin(engine, clock):
    """The admin who manages staff (``staff:admin`` in audit rows)."""
    with session_scope(engine) as s:
        add_staff(s, "admin", role="admin", clock=clock)


@pytest.fixture
def enrolment(engine):
    with session_scope(engine) as s:
        return create_staff(
            s, username="ann", email="ann@support.example", role="agent", password=PASSWORD
        )


def test_create_staff_turns_totp_on(engine, enrolment):
    assert enrolment.uri.startswith("otpauth://totp/") and "secret=" in enrolment.uri
    with session_scope(engine) as s:
        staff = staff_sign_in_password(s, login="ann", password=PASSWORD)
        assert staff.role == "agent" and staff.actor == "staff:ann"
        from core.store.tables import User

        assert is_enabled(s, s.get(User, staff.user_id))
        assert [(m.username, active) for m, active in list_staff(s)] == [("ann", True)]


def test_sign_in_needs_a_current_code_once(engine, enrolment):
    with session_scope(engine) as s:
        staff = staff_sign_in_password(s, login="ann@support.example", password=PASSWORD)
    code = pyotp.TOTP(enrolment.secret).now()
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        staff_sign_in_second_factor(s, staff=staff, pin="000000" if code != "000000" else "1")
    with session_scope(engine) as s:
        assert staff_sign_in_second_factor(s, staff=staff, pin=code).username == "ann"
    with session_scope(engine) as s, pytest.raises(InvalidCode, match="already used"):
        staff_sign_in_second_factor(s, staff=staff, pin=code)


def test_wrong_password_non_staff_and_deactivated_look_alike(engine, enrolment, admin):
    with session_scope(engine) as s:
        create_user(s, username="hubuser", email="u@example.org", password=PASSWORD)
    for login, password in (("ann", "wrong password"), ("hubuser", PASSWORD)):
        with session_scope(engine) as s, pytest.raises(InvalidCredentials):
            staff_sign_in_password(s, login=login, password=password)
    with session_scope(engine) as s:
        update_staff(s, username="ann", actor="staff:admin", active=False)
    with session_scope(engine) as s, pytest.raises(InvalidCredentials):
        staff_sign_in_password(s, login="ann", password=PASSWORD)


def test_roles_and_pages(engine, enrolment, admin):
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        create_staff(s, username="x", email="x@e.org", role="root", password=PASSWORD)
    with session_scope(engine) as s:
        ops = update_staff(s, username="ann", actor="staff:admin", role="ops")
        assert active_staff(s, ops.user_id).role == "ops"
    assert pages_for("ops") == ("ops", "mail") and not can_decide("ops")
    assert "staff" in pages_for("admin") and "staff" not in pages_for("agent")
    assert can_decide("agent") and can_decide("admin")


def test_session_expires_after_inactivity(clock):
    last_seen = clock()
    clock.advance(minutes=29)
    assert not session_expired(last_seen, clock=clock)
    clock.advance(minutes=2)
    assert session_expired(last_seen, clock=clock)
    assert session_expired(last_seen - timedelta(days=1), clock=clock)
