"""Issue #12 item 1: a signed-in staff session survives a reload or a new tab for the idle
window, without weakening it: the browser holds only a random token (the server keeps its
SHA-256), it idles out, has an absolute end, is revoked by sign-out everywhere at once and
ends the moment the staff member is deactivated.

``AppTest`` cannot send cookies, so a "reload" is a new ``AppTest`` session given the cookie
the first one wrote (read from the cookie-writing script it rendered)."""

from __future__ import annotations

import hashlib
import re

from sqlmodel import select

from backoffice.staff import state
from core.staff import update_staff
from core.store import session_scope
from core.store.tables import StaffSession
from tests.backoffice.staff.conftest import new_app, sign_in

TOKEN = re.compile(r"document\.cookie = name \+ '=' \+ \"([A-Za-z0-9_-]+)\"")


def written_cookie(at) -> str:
    """The token in the cookie-writing script the app rendered after sign-in."""
    scripts = [el.proto.srcdoc for el in at.get("iframe")]
    tokens = [m.group(1) for script in scripts for m in [TOKEN.search(script)] if m]
    assert len(tokens) == 1, scripts
    return tokens[0]


def reload(world, token: str, clock=None):
    """A new browser tab (or a reload): a fresh Streamlit session sending the cookie."""
    at = new_app(world, clock)
    at.session_state[state.COOKIES_KEY] = {state.COOKIE: token}
    return at.run()


def titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_reload_keeps_the_sign_in_and_only_a_hash_is_stored(world):
    at = sign_in(world, "ann")
    token = written_cookie(at)
    tab = reload(world, token, at.session_state[state.CLOCK_KEY])
    assert titles(tab) == ["Queue"]
    assert "Signed in as **ann** · agent" in [c.value for c in tab.sidebar.caption]
    with session_scope(world.engine) as s:
        (row,) = s.exec(select(StaffSession)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row.model_dump())


def test_a_forged_or_unknown_cookie_signs_nobody_in(world):
    sign_in(world, "ann")
    assert titles(reload(world, "not-a-token")) == ["Support back office"]


def test_idle_session_cannot_be_resumed(world):
    at = sign_in(world, "ann")
    token = written_cookie(at)
    later = at.session_state[state.CLOCK_KEY]
    later.advance(minutes=31)
    assert titles(reload(world, token, later)) == ["Support back office"]


def test_activity_keeps_it_alive_until_the_absolute_end(world):
    at = sign_in(world, "ann")
    token = written_cookie(at)
    clock = at.session_state[state.CLOCK_KEY]
    for _ in range(3):
        clock.advance(minutes=25)
        at.run()
        assert titles(at) == ["Queue"]
    assert titles(reload(world, token, clock)) == ["Queue"]
    clock.advance(hours=12)
    assert titles(reload(world, token, clock)) == ["Support back office"]


def test_sign_out_ends_the_session_in_every_tab(world):
    at = sign_in(world, "ann")
    token = written_cookie(at)
    clock = at.session_state[state.CLOCK_KEY]
    other_tab = reload(world, token, clock)
    at.sidebar.button(key="sign_out").click().run()
    assert titles(at) == ["Support back office"]
    assert "You are signed out." in [i.value for i in at.info]
    scripts = " ".join(el.proto.srcdoc for el in at.get("iframe"))
    assert "Max-Age=0" in scripts, "the cookie is cleared in this browser"
    assert titles(other_tab.run()) == ["Support back office"]
    assert titles(reload(world, token, clock)) == ["Support back office"]


def test_deactivation_ends_the_session_at_once(world):
    at = sign_in(world, "ann")
    token = written_cookie(at)
    with session_scope(world.engine) as s:
        update_staff(s, username="ann", active=False, actor="cli")
    assert titles(at.run()) == ["Support back office"]
    assert titles(reload(world, token, at.session_state[state.CLOCK_KEY])) == [
        "Support back office"
    ]
    with session_scope(world.engine) as s:
        update_staff(s, username="ann", active=True, actor="cli")
    assert titles(reload(world, token)) == ["Support back office"], "revoked for good"


def test_a_role_change_applies_on_the_next_run(world):
    at = sign_in(world, "ann")
    with session_scope(world.engine) as s:
        update_staff(s, username="ann", role="ops", actor="cli")
    at.run()
    assert titles(at) == ["Ops"]
