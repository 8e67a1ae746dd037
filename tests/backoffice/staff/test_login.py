"""The sign-in gate: password, then TOTP; role-gated pages; deep links; inactivity."""

from __future__ import annotations

import pyotp
import pytest

from backoffice.staff import state
from tests.backoffice.staff.conftest import PASSWORD, new_app, shown, sign_in


def titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_wrong_password_stays_on_sign_in(world):
    at = new_app(world).run()
    assert titles(at) == ["Support back office"]
    at.text_input(key="login_name").input("ann")
    at.text_input(key="login_password").input("not the password")
    at.button[0].click().run()
    assert [shown(e.value) for e in at.error] == ["Wrong username/email or password."]
    assert "login_code" not in [t.key for t in at.text_input]


def test_hub_user_without_staff_row_is_refused(world):
    at = new_app(world).run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert [shown(e.value) for e in at.error] == ["Wrong username/email or password."]


def test_wrong_code_then_right_code(world):
    at = new_app(world)
    clock = at.session_state[state.CLOCK_KEY]
    at.run()
    at.text_input(key="login_name").input("ann")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    right = pyotp.TOTP(world.secrets["ann"]).at(clock())
    at.text_input(key="login_code").input("000000" if right != "000000" else "111111")
    at.button[0].click().run()
    assert [shown(e.value) for e in at.error] == ["That code is not correct."]
    at.text_input(key="login_code").input(right)
    at.button[0].click().run()
    assert titles(at) == ["Queue"]
    assert "Signed in as **ann** · agent" in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize(
    ("name", "first_page", "allowed", "refused"),
    [
        (
            "ann",
            "Queue",
            ["views/ticket.py", "views/mail.py"],
            ["views/ops.py", "views/staff_admin.py"],
        ),
        ("olly", "Ops", ["views/mail.py"], ["views/queue.py", "views/ticket.py"]),
        ("ada", "Queue", ["views/ops.py", "views/staff_admin.py"], []),
    ],
)
def test_roles_see_only_their_pages(world, name, first_page, allowed, refused):
    at = sign_in(world, name)
    assert titles(at) == [first_page]
    for page in allowed:
        at.switch_page(page).run()
        assert not at.exception and titles(at), page
    for page in refused:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_signed_out_pages_are_unreachable(world):
    at = new_app(world).run()
    with pytest.raises(ValueError):
        at.switch_page("views/queue.py")


def test_deep_link_survives_sign_in(world):
    at = new_app(world)
    at.query_params["ticket"] = str(world.weak_ticket)
    at = sign_in(world, "ann", at=at)
    assert titles(at)[0].startswith(f"#{world.weak_ticket} · ")


def test_session_ends_after_inactivity(world):
    at = sign_in(world, "ann")
    at.session_state[state.CLOCK_KEY].advance(minutes=31)
    at.run()
    assert titles(at) == ["Support back office"]
    assert any("inactivity" in i.value for i in at.info)


def test_sign_out(world):
    at = sign_in(world, "ann")
    at.sidebar.button(key="sign_out").click().run()
    assert titles(at) == ["Support back office"]
