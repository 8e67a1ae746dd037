"""Browser steps on the staff back office (Playwright, sync API), shared by the browser
tests. Elements are found by their widget keys (``st-key-<key>`` classes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pyotp
from playwright.sync_api import Page

from tests.browser.portal_steps import wait_for_app
from tests.conftest import PROJECT_ROOT


@dataclass(frozen=True)
class StaffLogin:
    username: str
    password: str
    secret: str


def backoffice_cli(db_url: str, *args: str, stdin: str | None = None) -> str:
    """Run the real ``backoffice`` CLI against the demo's database; returns stdout."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "BACKOFFICE_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-c", "from backoffice.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def create_staff(db_url: str, username: str, role: str, password: str) -> StaffLogin:
    out = backoffice_cli(
        db_url,
        "staff",
        "create",
        username,
        "--role",
        role,
        "--password-stdin",
        "--json",
        stdin=f"{password}\n{password}\n",
    )
    return StaffLogin(username, password, json.loads(out)["totp_secret"])


def sign_in(page: Page, url: str, login: StaffLogin) -> None:
    """Open ``url`` (any page of the app, a deep link too) and sign in with both steps."""
    page.goto(url)
    wait_for_app(page, ".st-key-login_name input")
    page.locator(".st-key-login_name input").fill(login.username)
    page.locator(".st-key-login_password input").fill(login.password)
    page.locator(".st-key-login_continue button").click()
    wait_for_app(page, ".st-key-login_code input")
    page.locator(".st-key-login_code input").fill(pyotp.TOTP(login.secret).now())
    page.locator(".st-key-login_submit button").click()
    wait_for_app(page, ".st-key-sign_out button")


def sign_out(page: Page) -> None:
    page.locator(".st-key-sign_out button").click()
    wait_for_app(page, ".st-key-login_name input")
