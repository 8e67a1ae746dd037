"""The main job end to end in a real Chromium: ``backoffice demo`` starts, a staff member
signs in with the printed password and a TOTP code, opens a ticket and approves it; the
decision is in the database and its email reaches the demo's mail capture. The portal of
the same demo lets its demo user turn 2FA on. Ctrl-C stops everything."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pyotp
import pytest
from playwright.sync_api import Page

from core.mail.capture import captured
from core.store import make_engine, session_scope
from core.store.tables import Ticket
from tests.browser.conftest import APP_IDLE, DemoServer
from tests.browser.portal_steps import enable_two_factor_in_browser
from tests.conftest import PROJECT_ROOT

SCREENSHOT_DIR = os.environ.get("BACKOFFICE_SCREENSHOT_DIR")
"""Read at import (the autouse settings fixture clears BACKOFFICE_* variables); when set,
the screenshots are also copied there (docs/ uses them)."""
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


def idle(page: Page, selector: str) -> None:
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
    page.wait_for_selector(selector, timeout=TIMEOUT_MS)


def shoot(page: Page, demo: DemoServer, name: str) -> None:
    path = demo.workdir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if SCREENSHOT_DIR:
        target = PROJECT_ROOT / SCREENSHOT_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def staff_sign_in(page: Page, demo: DemoServer) -> None:
    page.goto(demo.staff_url)
    idle(page, ".st-key-login_name input")
    page.locator(".st-key-login_name input").fill(demo.staff_username)
    page.locator(".st-key-login_password input").fill(demo.staff_password)
    page.locator(".st-key-login_continue button").click()
    idle(page, ".st-key-login_code input")
    page.locator(".st-key-login_code input").fill(pyotp.TOTP(demo.staff_secret).now())
    page.locator(".st-key-login_submit button").click()
    idle(page, ".st-key-q_open button")


def approve_in_browser(page: Page, demo: DemoServer, ticket_id: int) -> None:
    page.locator(".st-key-q_open_id input").fill(str(ticket_id))
    page.locator(".st-key-q_open_id input").press("Enter")
    idle(page, ".st-key-q_open button:not([disabled])")
    page.locator(".st-key-q_open button").click()
    idle(page, ".st-key-t_action")
    page.locator(".st-key-t_action label", has_text="Approve").click()
    idle(page, ".st-key-t_preview button")
    page.locator(".st-key-t_preview button").click()
    idle(page, ".st-key-t_confirm button")
    shoot(page, demo, "screenshot-ticket.png")
    page.locator(".st-key-t_confirm button").click()
    page.wait_for_selector("text=approved — the email is queued", timeout=TIMEOUT_MS)
    idle(page, "text=Decided: approved")


def test_demo_staff_approves_a_ticket(demo_server, chromium_page):
    demo, page = demo_server, chromium_page
    ticket_id = demo.tickets["alice"]
    try:
        staff_sign_in(page, demo)
        assert page.locator("h1", has_text="Queue").count() == 1
        shoot(page, demo, "screenshot-queue.png")
        approve_in_browser(page, demo, ticket_id)
        shoot(page, demo, "screenshot-ticket-approved.png")
    except Exception:
        page.screenshot(path=str(demo.workdir / "failure.png"), full_page=True)
        raise

    engine = make_engine(f"sqlite:///{demo.workdir / 'data' / 'demo.db'}")
    with session_scope(engine, readonly=True) as s:
        ticket = s.get(Ticket, ticket_id)
        assert (ticket.status, ticket.decided_by) == ("approved", demo.staff_username)
    engine.dispose()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mail = captured(demo.workdir / "data" / "demo-mail")
        if any(m["To"] == "alice@example.org" and f"#{ticket_id}" in m["Subject"] for m in mail):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"no approval email captured: {[(m['To'], m['Subject']) for m in mail]}")

    codes = enable_two_factor_in_browser(
        page,
        demo.portal_url,
        demo.portal_username,
        demo.portal_password,
        screenshot_path=demo.workdir / "portal-recovery-codes.png",
    )
    assert len(codes) == 16

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    assert "Stopping the demo" in demo.output()
