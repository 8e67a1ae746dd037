"""Issue #12 end to end in a real Chromium on ``backoffice demo``: a full agent day and a
Hub user's recovery. The agent opens a deep link while signed out (sign-in, then the
ticket), reloads (still signed in), filters the queue to flagged tickets, opens one from
the queue, comes back to the same filtered queue, approves a ticket after its preview,
reads the emails in the demo's mail capture; the portal's demo user turns 2FA on, loses the
app, signs in with a recovery code and is led to a new authenticator app. The screenshots
in ``docs/`` come from this test (``BACKOFFICE_SCREENSHOT_DIR=docs``). Ctrl-C stops all."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
from playwright.sync_api import Page

from core.mail.capture import captured
from core.store import make_engine, session_scope
from core.store.tables import Ticket
from tests.browser.conftest import DemoServer
from tests.browser.portal_steps import (
    confirm_enrolment_in_browser,
    enable_two_factor_in_browser,
    wait_for_app,
)
from tests.browser.staff_steps import StaffLogin, create_staff, sign_in
from tests.conftest import PROJECT_ROOT

SCREENSHOT_DIR = os.environ.get("BACKOFFICE_SCREENSHOT_DIR")
"""Read at import (the autouse settings fixture clears BACKOFFICE_* variables); when set,
the screenshots are also copied there (docs/ uses them)."""
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser


def shoot(page: Page, demo: DemoServer, name: str) -> None:
    path = demo.workdir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if SCREENSHOT_DIR:
        target = PROJECT_ROOT / SCREENSHOT_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def select_first_queue_row(page: Page) -> None:
    """Tick the first row's selection box in the queue grid (a canvas)."""
    grid = page.locator(".st-key-queue_rows [data-testid='stDataFrameResizable']")
    grid.wait_for(timeout=TIMEOUT_MS)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)


def approve(page: Page, demo: DemoServer, ticket_id: int) -> None:
    page.locator(".st-key-q_open_id input").fill(str(ticket_id))
    page.locator(".st-key-q_open_id input").press("Enter")
    wait_for_app(page, ".st-key-q_open button:not([disabled])")
    page.locator(".st-key-q_open button").click()
    wait_for_app(page, ".st-key-t_preview button")
    page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollTo(0, 0)")
    shoot(page, demo, "screenshot-ticket.png")
    chosen = page.locator(".st-key-t_action label:has(input:checked)").inner_text()
    assert chosen.strip() == "Approve", "the form starts on the recommendation"
    page.locator(".st-key-t_preview button").click()
    wait_for_app(page, ".st-key-t_confirm button")
    shoot(page, demo, "screenshot-ticket-preview.png")
    page.locator(".st-key-t_confirm button").click()
    page.wait_for_selector(f"text=Ticket #{ticket_id}: approved", timeout=TIMEOUT_MS)
    wait_for_app(page, "text=Approved by")


def read_emails(page: Page, demo: DemoServer, ticket_id: int) -> None:
    """The Mail page's captured tab, reloaded until the sender has delivered the approval:
    one email to the owner that is the decision and the security notice at once."""
    deadline = time.monotonic() + 30
    summaries = page.locator("[data-testid='stExpander'] summary")
    while True:
        page.goto(f"{demo.staff_url}/mail")
        wait_for_app(page, "[role='tab']")
        page.locator("[role='tab']", has_text="Captured").click()
        wait_for_app(page, "[role='tabpanel']")
        approval = summaries.filter(has_text=f"[#{ticket_id}] Two-factor authentication was reset")
        if approval.count() or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert approval.count() == 1
    owner = summaries.filter(has_text="Two-factor authentication was reset on your account")
    assert owner.count() == 1, "no second email: the approval is the security notice too"
    approval.first.click()
    wait_for_app(page, "[data-testid='stExpander'] code")
    assert "This is a security notice" in page.locator("[data-testid='stMain']").inner_text()
    shoot(page, demo, "screenshot-mail.png")


def agent_day(page: Page, demo: DemoServer, agent: StaffLogin) -> None:
    alice, erin = demo.tickets["alice"], demo.tickets["erin"]
    sign_in(page, f"{demo.staff_url}/ticket?ticket={erin}", agent)
    wait_for_app(page, "h1")
    assert page.locator("h1").first.inner_text().startswith(f"#{erin} · ")
    page.reload()
    wait_for_app(page, ".st-key-sign_out button")
    assert page.locator("h1").first.inner_text().startswith(f"#{erin} · "), "still signed in"

    page.goto(demo.staff_url)
    wait_for_app(page, ".st-key-queue_rows")
    page.locator(".st-key-q_flagged label").click()
    wait_for_app(page, ".st-key-queue_rows")
    shoot(page, demo, "screenshot-queue.png")
    select_first_queue_row(page)
    wait_for_app(page, ".st-key-t_claim button")
    assert (
        "Flagged" in page.locator("[data-testid='stMain']").inner_text()
        or page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").count()
    ), "a flagged ticket"
    page.locator("[data-testid='stSidebarNav'] a", has_text="Queue").click()
    wait_for_app(page, ".st-key-queue_rows")
    assert page.locator(".st-key-q_flagged input").is_checked(), "the filter survived"

    approve(page, demo, alice)
    read_emails(page, demo, alice)


def portal_recovery(page: Page, demo: DemoServer) -> None:
    codes = enable_two_factor_in_browser(
        page, demo.portal_url, demo.portal_username, demo.portal_password
    )
    assert len(codes) == 16
    page.locator(".st-key-codes_saved button").click()
    wait_for_app(page, ".st-key-sign_out button")
    page.locator(".st-key-sign_out button").click()
    wait_for_app(page, ".st-key-signin_login input")
    page.locator(".st-key-signin_login input").fill(demo.portal_username)
    page.locator(".st-key-signin_password input").fill(demo.portal_password)
    page.locator(".st-key-signin_submit button").click()
    wait_for_app(page, ".st-key-use_recovery_code button")
    page.locator(".st-key-use_recovery_code button").click()
    wait_for_app(page, ".st-key-signin_recovery_code input")
    page.locator(".st-key-signin_recovery_code input").fill(codes[0])
    page.locator(".st-key-signin_verify button").click()
    wait_for_app(page, ".st-key-new_authenticator")
    assert "15 recovery codes left" in page.locator("[data-testid='stMain']").inner_text()
    shoot(page, demo, "screenshot-portal-new-authenticator.png")
    page.locator(".st-key-replace_password input").fill(demo.portal_password)
    page.locator(".st-key-replace_code input").fill(codes[1])
    page.locator(".st-key-replace_submit button").click()
    new_codes = confirm_enrolment_in_browser(page)
    assert len(new_codes) == 16 and not set(new_codes) & set(codes)


def test_a_full_agent_day_and_a_portal_recovery(demo_server, chromium_page):
    demo, page = demo_server, chromium_page
    db_url = f"sqlite:///{demo.workdir / 'data' / 'demo.db'}"
    agent = create_staff(db_url, "ann", "agent", "ann demo password")
    try:
        agent_day(page, demo, agent)
        portal_recovery(page, demo)
    except Exception:
        page.screenshot(path=str(demo.workdir / "failure.png"), full_page=True)
        raise

    engine = make_engine(db_url)
    with session_scope(engine, readonly=True) as s:
        ticket = s.get(Ticket, demo.tickets["alice"])
        assert (ticket.status, ticket.decided_by) == ("approved", "ann")
    engine.dispose()
    mail = captured(demo.workdir / "data" / "demo-mail")
    assert [m["To"] for m in mail].count("alice@example.org") >= 1

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    assert "Stopping the demo" in demo.output()
