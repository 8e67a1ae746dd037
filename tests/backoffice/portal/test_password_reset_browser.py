"""Forgot password? in a real Chromium against ``backoffice portal``: the link from the
email opens the page, the token leaves the address bar, and the new password signs in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from core.store import make_engine, session_scope
from core.store.tables import OutboxEmail
from core.twofactor import sign_in_password
from tests.browser import conftest as browser
from tests.browser import test_portal_browser as portal_browser
from tests.browser.portal_steps import wait_for_app
from tests.support.outbox_mail import delivered_text

pytestmark = pytest.mark.browser
chromium_page = browser.chromium_page
portal_url = portal_browser.portal_url
NEW_PASSWORD = "a new one, from the browser"


def emailed_link(sqlite_url: str) -> str:
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine, readonly=True) as s:
            body = delivered_text(
                s.exec(
                    select(OutboxEmail).where(OutboxEmail.template == "password_reset_link")
                ).one()
            )
    finally:
        engine.dispose()
    return re.search(r"http://\S+/forgot-password\?token=\S+", body).group(0)


def test_reset_by_link_in_the_browser(portal_url, chromium_page, sqlite_url):
    page = chromium_page
    page.goto(f"{portal_url}/forgot-password")
    wait_for_app(page, ".st-key-reset_email input")
    page.locator(".st-key-reset_email input").fill("alice@example.com")
    page.locator(".st-key-reset_send button").click()
    page.wait_for_selector("text=If an account uses that address", timeout=30_000)

    link = urlsplit(emailed_link(sqlite_url))
    page.goto(f"{portal_url}{link.path}?{link.query}")
    wait_for_app(page, ".st-key-reset_password input")
    assert page.get_by_text("Resetting the password of").is_visible()
    page.wait_for_function("() => !window.location.search.includes('token=')", timeout=30_000)
    assert "token" not in page.url

    page.locator(".st-key-reset_password input").fill(NEW_PASSWORD)
    page.locator(".st-key-reset_password_again input").fill(NEW_PASSWORD)
    page.locator(".st-key-reset_submit button").click()
    wait_for_app(page, ".st-key-signin_login input")
    assert page.get_by_text("Your password was changed").is_visible()

    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as s:
            assert sign_in_password(s, login="alice", password=NEW_PASSWORD).complete
    finally:
        engine.dispose()
