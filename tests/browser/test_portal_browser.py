"""The account portal in a real Chromium: ``backoffice portal`` serves it, a user enables 2FA
with a computed pin, and the recovery codes it shows really sign in."""

from __future__ import annotations

import os
import shutil

import pytest

from core.accounts.users import create_user
from core.store import make_engine, session_scope
from core.twofactor import sign_in, two_factor_status
from tests.browser.portal_server import running_portal
from tests.browser.portal_steps import enable_two_factor_in_browser
from tests.conftest import PROJECT_ROOT

PASSWORD = "correct horse battery staple"
SCREENSHOT_NAME = "portal-recovery-codes.png"
SCREENSHOT_DIR = os.environ.get("BACKOFFICE_SCREENSHOT_DIR")
"""Read at import: the autouse settings fixture clears every BACKOFFICE_* variable."""

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_url(sqlite_url, tmp_path):
    """``backoffice portal`` on a free port against a SQLite file with the user alice."""
    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        create_user(s, username="alice", email="alice@example.com", password=PASSWORD)
    engine.dispose()
    with running_portal(sqlite_url, tmp_path / "portal.log", {}) as base_url:
        yield base_url


def test_enable_two_factor_in_the_browser(portal_url, chromium_page, sqlite_url, tmp_path):
    screenshot = tmp_path / SCREENSHOT_NAME
    try:
        codes = enable_two_factor_in_browser(
            chromium_page, portal_url, "alice", PASSWORD, screenshot_path=screenshot
        )
    except Exception:
        chromium_page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise
    assert len(codes) == 16 and len(set(codes)) == 16
    assert screenshot.stat().st_size > 10_000
    if SCREENSHOT_DIR:
        target = PROJECT_ROOT / SCREENSHOT_DIR / SCREENSHOT_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, target)

    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        result = sign_in(s, login="alice", password=PASSWORD, recovery_code=codes[0])
        assert result.complete and result.method == "recovery_code"
        assert two_factor_status(s, result.user).recovery_codes_left == 15
    engine.dispose()
