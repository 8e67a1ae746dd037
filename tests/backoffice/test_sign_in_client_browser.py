"""The per-client password count through a real server: Chromium signs in to ``backoffice
portal`` as a reverse proxy on the same host would forward it (from loopback, with
X-Forwarded-For), and the throttle row names the client the header gives.

Streamlit's server (uvicorn) already puts X-Forwarded-For's client in place of a loopback
peer; ``BACKOFFICE_TRUSTED_PROXIES`` then reads past proxies further out."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from core.accounts.users import create_user
from core.store import make_engine, session_scope
from core.store.tables import PasswordThrottle
from tests.browser import conftest as browser
from tests.browser.portal_server import running_portal
from tests.browser.portal_steps import TIMEOUT_MS, wait_for_app

pytestmark = pytest.mark.browser
chromium_page = browser.chromium_page
PASSWORD = "correct horse battery staple"
ACCOUNTS = ["ann", "bob", "cid"]


@pytest.fixture
def accounts(sqlite_url):
    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        for name in ACCOUNTS:
            create_user(s, username=name, email=f"{name}@example.com", password=PASSWORD)
    engine.dispose()


def throttle_rows(sqlite_url: str, scope: str) -> dict[str, int]:
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine, readonly=True) as s:
            rows = s.exec(select(PasswordThrottle).where(PasswordThrottle.scope == scope))
            return {row.subject: row.failures for row in rows}
    finally:
        engine.dispose()


def wait_for_failed_accounts(sqlite_url: str, count: int) -> None:
    """Each sign-in fails one more account: the page still shows the last one's error."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while len(throttle_rows(sqlite_url, "account")) < count:
        assert time.monotonic() < deadline, f"{count} failed sign-ins never reached the database"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "expected"),
    [
        pytest.param("", "203.0.113.7", {"web:203.0.113.7": 3}, id="proxy-on-this-host"),
        pytest.param(
            "10.0.0.0/8",
            "198.51.100.1, 203.0.113.7, 10.0.0.5",
            {"web:203.0.113.7": 3},
            id="load-balancer-then-local-proxy",
        ),
        pytest.param(
            "", "198.51.100.1, 203.0.113.7, 10.0.0.5", {"web:10.0.0.5": 3}, id="untrusted"
        ),
        pytest.param("", None, {}, id="loopback-without-header"),
    ],
)
def test_the_real_handshake_names_the_client(
    chromium_page, sqlite_url, tmp_path, accounts, trusted, forwarded_for, expected
):
    settings = {"BACKOFFICE_TRUSTED_PROXIES": trusted}
    with running_portal(sqlite_url, tmp_path / "portal.log", settings) as base_url:
        page = chromium_page
        if forwarded_for is not None:
            page.set_extra_http_headers({"X-Forwarded-For": forwarded_for})
        page.goto(f"{base_url}/")
        for name in ACCOUNTS:
            wait_for_app(page, ".st-key-signin_login input")
            page.locator(".st-key-signin_login input").fill(name)
            page.locator(".st-key-signin_password input").fill("spray-2026")
            page.locator(".st-key-signin_submit button").click()
            wait_for_failed_accounts(sqlite_url, ACCOUNTS.index(name) + 1)
            page.wait_for_selector("text=Wrong username/email or password.", timeout=TIMEOUT_MS)
            page.wait_for_selector(browser.APP_IDLE, timeout=TIMEOUT_MS)
        assert throttle_rows(sqlite_url, "client") == expected
