"""Sign in: password, then the authenticator pin or a recovery code, each accepted once."""

from __future__ import annotations

import pytest

from tests.backoffice.portal.conftest import PASSWORD

ALREADY_USED = "That code was already used; wait for the next one."


def signed_in_as(portal, username: str) -> bool:
    return f"You are signed in as **{username}**." in portal.page_text()


@pytest.mark.parametrize("login", ["alice", "ALICE@example.com"])
def test_password_only_account_signs_in_with_username_or_email(portal, alice, login):
    portal.sign_in(login, PASSWORD)
    assert signed_in_as(portal, "alice")
    assert portal.at.sidebar.caption[0].value == "Signed in as **alice**"


def test_wrong_password_is_one_error_line(portal, alice):
    portal.sign_in("alice", "not the password")
    assert portal.errors() == ["Wrong username/email or password."]
    assert not signed_in_as(portal, "alice")


def test_sign_in_with_a_pin_and_its_replay_is_refused(portal, alice):
    portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD)
    assert portal.has("signin_pin"), "2FA is on: the pin prompt follows the password"
    assert not signed_in_as(portal, "alice")

    pin = portal.next_pin()
    portal.second_factor(pin)
    assert signed_in_as(portal, "alice")

    portal.sign_out().sign_in("alice", PASSWORD).second_factor(pin)
    assert portal.errors() == [ALREADY_USED]
    assert not signed_in_as(portal, "alice")
    assert portal.has("signin_pin"), "the prompt stays for another try"

    portal.second_factor(portal.next_pin())
    assert signed_in_as(portal, "alice")


def test_sign_in_with_a_recovery_code_and_its_reuse_is_refused(portal, alice):
    codes = portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD)
    link = portal.at.button(key="use_recovery_code")
    assert link.label == "Lost access to your two-factor authentication app? Use a recovery code"

    portal.recovery_code(codes[0].upper())
    assert portal.at.sidebar.caption[0].value == "Signed in as **alice**"
    assert portal.at.title[0].value == "Authentication", "on to a new authenticator app"
    notes = portal.texts("info")
    assert any("15 recovery codes left" in note for note in notes), notes
    assert portal.texts("warning") == []

    portal.sign_out().sign_in("alice", PASSWORD).recovery_code(codes[0])
    assert portal.errors() == ["That recovery code is not valid or was already used."]
    assert not signed_in_as(portal, "alice")

    portal.press("use_totp")
    assert portal.has("signin_pin") and not portal.has("signin_recovery_code")


def test_low_on_recovery_codes_is_a_warning(portal, alice, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("BACKOFFICE_RECOVERY_CODES_LOW_WARNING", "15")
    get_settings.cache_clear()
    codes = portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD).recovery_code(codes[5])
    (warning,) = [w for w in portal.texts("warning") if "running low" in w]
    assert "15 recovery codes left" in warning
    portal.open("authentication")
    assert portal.metric("Recovery codes left") == "15"
    assert any("Only 15 recovery codes left" in w for w in portal.texts("warning"))
    events = list(portal.at.table[0].value["Event"])
    assert events[0] == "Signed in with a recovery code"


def test_cancel_returns_to_the_password_step(portal, alice):
    portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD).press("signin_cancel")
    assert portal.has("signin_login") and not portal.has("signin_pin")


def test_throttled_after_failed_pins(portal, alice):
    portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD)
    right = portal.next_pin()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        portal.second_factor(wrong)
    portal.second_factor(right)
    (error,) = portal.errors()
    assert error.startswith("This account is throttled after failed codes; try again in")
    assert not signed_in_as(portal, "alice")
