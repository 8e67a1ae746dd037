"""Settings → Authentication once 2FA is on: regenerate the recovery codes, remove 2FA."""

from __future__ import annotations

from tests.backoffice.portal.conftest import PASSWORD


def test_regenerate_asks_for_a_code_and_voids_the_old_set(portal, alice):
    old = portal.enable("alice", PASSWORD)
    portal.press("codes_saved")

    portal.fill("regen_pin", "123").press("regen_submit")
    assert portal.errors() == ["Enter the 6-digit code from your authenticator app."]
    assert portal.shown_codes() == []

    portal.fill("regen_pin", portal.next_pin()).press("regen_submit")
    new = portal.shown_codes()
    assert len(new) == 16 and not set(new) & set(old)
    assert "New recovery codes generated; the old ones no longer work." in portal.texts("success")
    name, content = portal.download("download_codes")
    assert name == "huggingface-recovery-codes.txt"
    assert all(code in content.decode() for code in new)

    portal.sign_out().sign_in("alice", PASSWORD).recovery_code(old[0])
    assert portal.errors() == ["That recovery code is not valid or was already used."]
    portal.recovery_code(new[0])
    assert portal.at.sidebar.caption[0].value == "Signed in as **alice**"


def test_remove_needs_the_password_and_a_current_code(portal, alice):
    portal.enable("alice", PASSWORD)
    portal.press("codes_saved")

    portal.fill("remove_password", "wrong password").fill("remove_pin", portal.next_pin())
    portal.press("remove_submit")
    assert portal.errors() == ["Wrong password."], "the username is not in question here"
    assert portal.metric("Two-factor authentication") == "On"

    portal.fill("remove_password", PASSWORD).fill("remove_pin", portal.next_pin())
    portal.press("remove_submit")
    assert portal.errors() == []
    assert "Two-factor authentication was removed from your account." in portal.texts("success")
    assert portal.metric("Two-factor authentication") == "Off"
    assert portal.has("add_2fa")
    events = list(portal.at.table[0].value["Event"])
    assert events[:3] == [
        "Two-factor authentication removed",
        "Wrong password entered",  # the first try: counted as a sign-in's would be
        "Two-factor authentication enabled",
    ]

    portal.sign_out().sign_in("alice", PASSWORD)
    assert "You are signed in as **alice**." in portal.page_text(), "password alone now"
    assert not portal.has("signin_pin")


def test_a_new_enrolment_after_removal_has_a_new_key(portal, alice):
    portal.enable("alice", PASSWORD)
    first = portal.secret
    portal.press("codes_saved")
    portal.fill("remove_password", PASSWORD).fill("remove_pin", portal.next_pin())
    portal.press("remove_submit")
    assert portal.start_enrolment() != first
