"""Browser steps on the account portal (Playwright, sync API), shared by the browser tests.

Elements are found by their widget keys (Streamlit's ``st-key-<key>`` classes), so the steps
do not depend on wording or layout."""

from __future__ import annotations

from pathlib import Path

import pyotp
from playwright.sync_api import Page

APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 30_000


def wait_for_app(page: Page, ready: str) -> None:
    """Wait until the script run is over and ``ready`` (a selector) is on the page."""
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)


def sign_in_in_browser(page: Page, base_url: str, username: str, password: str) -> None:
    """Open the portal and sign in with username and password (2FA still off)."""
    page.goto(f"{base_url.rstrip('/')}/")
    wait_for_app(page, ".st-key-signin_login input")
    page.locator(".st-key-signin_login input").fill(username)
    page.locator(".st-key-signin_password input").fill(password)
    page.locator(".st-key-signin_submit button").click()
    wait_for_app(page, ".st-key-to_authentication a")


def enable_two_factor_in_browser(
    page: Page,
    base_url: str,
    username: str,
    password: str,
    screenshot_path: str | Path | None = None,
) -> list[str]:
    """Sign in, open Settings → Authentication, add 2FA with a pin computed from the key shown
    for manual entry, and return the recovery codes (screenshot of the page if asked)."""
    sign_in_in_browser(page, base_url, username, password)
    page.locator(".st-key-to_authentication a").click()
    wait_for_app(page, ".st-key-add_2fa button")
    page.locator(".st-key-add_2fa button").click()
    codes = confirm_enrolment_in_browser(page)
    if screenshot_path is not None:
        Path(screenshot_path).parent.mkdir(parents=True, exist_ok=True)
        page.locator(".st-key-recovery_codes").screenshot(path=str(screenshot_path))
    return codes


def confirm_enrolment_in_browser(page: Page) -> list[str]:
    """On an open enrolment: a pin from the key shown for manual entry, Save; returns the
    recovery codes shown."""
    wait_for_app(page, ".st-key-manual_entry_key code")
    secret = page.locator(".st-key-manual_entry_key code").inner_text().replace(" ", "").strip()
    page.locator(".st-key-enrol_pin input").fill(pyotp.TOTP(secret).now())
    page.locator(".st-key-enrol_save button").click()
    wait_for_app(page, ".st-key-recovery_codes code")
    return page.locator(".st-key-recovery_codes code").inner_text().split()
