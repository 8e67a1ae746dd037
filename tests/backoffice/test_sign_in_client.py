"""The staff app and the portal count wrong passwords per client, as their WebSocket
handshake shows it: one address guessing over many accounts is throttled, others are not.

``AppTest`` has no connection, so ``st.context`` answers from Streamlit's own
``_get_client_context``, replaced here by a handshake the test sets; everything from
``st.context`` on is the real code."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import streamlit.runtime.context
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from backoffice import portal as portal_package
from backoffice import staff as staff_package
from backoffice.portal import state as portal_state
from backoffice.staff import state as staff_state
from core.accounts.users import create_user
from core.clock import FrozenClock
from core.settings import get_settings
from core.staff import create_staff
from core.store import session_scope
from core.store.tables import PasswordThrottle
from tests.backoffice.staff.conftest import shown
from tests.support.cli_process import run_backoffice
from tests.support.smtp_sink import free_port

PASSWORD = "the right password 123"
WRONG = "Wrong username/email or password."
FREE = 3
"""Wrong passwords one client may send over all accounts before it must wait (set below)."""
ACCOUNTS = ["ann", "bob", "cid", "dee", "eve"]


@dataclass
class Handshake:
    """What Streamlit's server keeps of a browser's WebSocket handshake."""

    remote_ip: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def handshake(monkeypatch) -> Handshake:
    seen = Handshake()
    monkeypatch.setattr(streamlit.runtime.context, "_get_client_context", lambda: seen)
    return seen


@pytest.fixture
def throttle_settings(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_PASSWORD_CLIENT_FREE_FAILURES", str(FREE))
    monkeypatch.setenv("BACKOFFICE_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8:ffff::/48")
    get_settings.cache_clear()


class StaffFace:
    """The staff app's password step; every account is active staff."""

    def __init__(self, engine, clock) -> None:
        self.clock = clock
        with session_scope(engine) as s:
            for name in ACCOUNTS:
                create_staff(
                    s,
                    username=name,
                    email=f"{name}@support.example",
                    role="agent",
                    password=PASSWORD,
                    clock=clock,
                )

    def attempt(self, login: str, password: str) -> tuple[list[str], bool]:
        """The errors shown, and whether the password was taken (the code step follows)."""
        at = AppTest.from_file(str(staff_package.APP_PATH), default_timeout=30)
        at.session_state[staff_state.CLOCK_KEY] = self.clock
        at.run()
        at.text_input(key="login_name").input(login)
        at.text_input(key="login_password").input(password)
        at.button(key="login_continue").click().run()
        assert not at.exception, [e.value for e in at.exception]
        passed = any(t.key == "login_code" for t in at.text_input)
        return [shown(e.value) for e in at.error], passed


class PortalFace:
    """The portal's sign-in page; every account is a Hub user without 2FA."""

    def __init__(self, engine, clock) -> None:
        self.clock = clock
        with session_scope(engine) as s:
            for name in ACCOUNTS:
                create_user(s, username=name, email=f"{name}@example.com", password=PASSWORD)

    def attempt(self, login: str, password: str) -> tuple[list[str], bool]:
        at = AppTest.from_file(str(portal_package.APP_PATH), default_timeout=30)
        at.session_state[portal_state.CLOCK_KEY] = self.clock
        at.run()
        at.switch_page("views/sign_in.py").run()
        at.text_input(key="signin_login").input(login)
        at.text_input(key="signin_password").input(password)
        at.button(key="signin_submit").click().run()
        assert not at.exception, [e.value for e in at.exception]
        passed = f"You are signed in as **{login}**." in [m.value for m in at.markdown]
        return [e.value for e in at.error], passed


@pytest.fixture(params=["staff", "portal"])
def face(request, engine, clock, throttle_settings):
    kind = StaffFace if request.param == "staff" else PortalFace
    return kind(engine, FrozenClock(clock()))


def client_rows(engine) -> dict[str, PasswordThrottle]:
    with session_scope(engine, readonly=True) as s:
        rows = s.exec(select(PasswordThrottle).where(PasswordThrottle.scope == "client")).all()
        return {row.subject: row for row in rows}


def test_one_client_guessing_over_many_accounts_is_throttled(face, handshake, engine):
    handshake.remote_ip = "10.0.0.2"
    handshake.headers = [("X-Forwarded-For", "198.51.100.9, 203.0.113.7"), ("Host", "bo")]
    for name in ACCOUNTS[: FREE + 1]:
        assert face.attempt(name, "spray-2026") == ([WRONG], False), name

    errors, passed = face.attempt(ACCOUNTS[-1], "spray-2026")
    assert not passed and len(errors) == 1 and "throttled after failed passwords" in errors[0]
    errors, passed = face.attempt(ACCOUNTS[-1], PASSWORD)
    assert not passed and "throttled" in errors[0], "the client waits, even with a password"

    rows = client_rows(engine)
    assert set(rows) == {"web:203.0.113.7"}, "not the proxy, not what the client wrote"
    assert rows["web:203.0.113.7"].failures == FREE + 1
    assert rows["web:203.0.113.7"].blocked_until is not None

    handshake.headers = [("X-Forwarded-For", "203.0.113.8")]
    assert face.attempt(ACCOUNTS[-1], "spray-2026") == ([WRONG], False), "another client"
    assert face.attempt(ACCOUNTS[-1], PASSWORD) == ([], True), "the owner, from elsewhere"


def test_an_untrusted_peer_is_counted_whatever_its_header_says(face, handshake, engine):
    handshake.remote_ip = "203.0.113.50"
    for n, name in enumerate(ACCOUNTS[: FREE + 1]):
        handshake.headers = [("X-Forwarded-For", f"198.51.100.{n}")]
        assert face.attempt(name, "spray-2026") == ([WRONG], False)
    errors, _ = face.attempt(ACCOUNTS[-1], "spray-2026")
    assert "throttled" in errors[0]
    assert set(client_rows(engine)) == {"web:203.0.113.50"}


def test_an_ipv6_client_behind_an_ipv6_proxy(face, handshake, engine):
    handshake.remote_ip = "2001:db8:ffff::5"
    for n, name in enumerate(ACCOUNTS[: FREE + 1]):
        handshake.headers = [("X-Forwarded-For", f"2001:db8:1:2::{n + 1}")]
        assert face.attempt(name, "spray-2026") == ([WRONG], False)
    errors, _ = face.attempt(ACCOUNTS[-1], "spray-2026")
    assert "throttled" in errors[0], "a fresh address from the same /64 is the same client"
    assert set(client_rows(engine)) == {"web:2001:db8:1:2::/64"}


def test_no_address_no_client_count(face, handshake, engine):
    """Streamlit reports a loopback peer as no address, and AppTest has none at all: the
    account is still throttled, and no shared 'unknown' client collects everyone's failures."""
    handshake.remote_ip = None
    handshake.headers = [("X-Forwarded-For", "203.0.113.7")]
    for name in ACCOUNTS[: FREE + 2]:
        assert face.attempt(name, "spray-2026") == ([WRONG], False)
    assert client_rows(engine) == {}


def test_streamlit_s_own_test_runtime_gives_no_address(face, engine):
    """Unpatched, ``AppTest``'s runtime answers ``st.context.ip_address`` with a mock."""
    assert face.attempt(ACCOUNTS[0], "spray-2026") == ([WRONG], False)
    assert face.attempt(ACCOUNTS[0], PASSWORD) == ([], True)
    assert client_rows(engine) == {}


@pytest.mark.parametrize("command", ["serve", "portal"])
def test_a_malformed_proxy_network_stops_the_app_at_start(command, tmp_path):
    result = run_backoffice(
        command,
        "--port",
        str(free_port()),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        env={"BACKOFFICE_TRUSTED_PROXIES": "10.0.0.0/8, 10.0.0.300/24"},
        timeout=30,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "BACKOFFICE_TRUSTED_PROXIES" in lines[0] and "10.0.0.300/24" in lines[0]
    assert "http://" not in result.stdout, "no server started"
