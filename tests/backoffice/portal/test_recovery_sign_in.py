"""Issue #12 item 9: a recovery-code sign-in says how many codes are left and leads straight
to setting up a new authenticator app (password and one more recovery code replace the lost
app, then the new one is enrolled with fresh codes); sign-out says it happened."""

from __future__ import annotations

import pyotp

from tests.backoffice.portal.conftest import PASSWORD
from tests.backoffice.portal.driver import GROUPED_SECRET


def test_recovery_sign_in_leads_to_a_new_authenticator(portal, alice):
    codes = portal.enable("alice", PASSWORD)
    old_secret = portal.secret
    portal.press("codes_saved").sign_out().sign_in("alice", PASSWORD).recovery_code(codes[0])
    assert portal.at.title[0].value == "Authentication"
    assert any("15 recovery codes left" in note for note in portal.texts("info"))
    assert "Set up your new authenticator app" in portal.page_text()

    portal.open("authentication")  # AppTest stays on the page a switch_page left, as a browser does
    portal.fill("replace_password", PASSWORD).fill("replace_code", codes[1])
    portal.press("replace_submit")
    assert portal.errors() == []
    grouped = next(c for c in portal.texts("code") if GROUPED_SECRET.match(c))
    portal.secret = grouped.replace(" ", "")
    assert portal.secret != old_secret
    portal.fill("enrol_pin", portal.next_pin()).press("enrol_save")
    new_codes = portal.shown_codes()
    assert len(new_codes) == 16 and not set(new_codes) & set(codes)
    assert portal.metric("Two-factor authentication") == "On"
    assert "Set up your new authenticator app" not in portal.page_text()

    portal.press("codes_saved").sign_out()
    assert "You are signed out." in portal.texts("info")
    portal.sign_in("alice", PASSWORD)
    portal.second_factor(pyotp.TOTP(old_secret).at(portal.clock()))
    assert portal.errors(), "the lost app's codes no longer work"


def test_replacing_needs_the_password_and_a_valid_code(portal, alice):
    codes = portal.enable("alice", PASSWORD)
    portal.press("codes_saved").sign_out().sign_in("alice", PASSWORD).recovery_code(codes[0])
    portal.open("authentication")
    portal.fill("replace_password", "wrong").fill("replace_code", codes[1])
    portal.press("replace_submit")
    assert portal.errors() == ["Wrong password."]
    portal.fill("replace_password", PASSWORD).fill("replace_code", codes[0])
    portal.press("replace_submit")
    assert portal.errors() == ["That recovery code is not valid or was already used."]
    assert portal.metric("Two-factor authentication") == "On"
