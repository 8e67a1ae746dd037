"""Settings → Authentication: adding 2FA (wrong pin, right pin), the codes and their file."""

from __future__ import annotations

from sqlmodel import select

from core.store import session_scope
from core.store.tables import OutboxEmail
from core.twofactor import COMPATIBLE_APPS
from tests.backoffice.portal.conftest import PASSWORD


def test_settings_need_a_signed_in_user(portal):
    portal.open("authentication")
    assert "Sign in to manage" in portal.page_text()
    assert not portal.has("add_2fa")


def test_enable_with_a_wrong_pin_then_the_right_one(portal, alice, engine):
    portal.sign_in("alice", PASSWORD).open("authentication")
    assert portal.metric("Two-factor authentication") == "Off"

    secret = portal.start_enrolment()
    assert len(secret) == 32
    assert secret not in repr(portal.at.session_state.to_dict()), "read from the store"
    (qr,) = portal.at.image
    assert qr.captions == ["Scan with your authenticator app"]
    assert portal.media_file(qr.value[0]).startswith(b"\x89PNG")
    page = portal.page_text()
    for detail in ("Hugging Face", "alice", "SHA1", "**Digits**: 6", "**Period**: 30"):
        assert detail in page
    for app in COMPATIBLE_APPS:
        assert app in page

    right = portal.next_pin()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    portal.fill("enrol_pin", wrong).press("enrol_save")
    (error,) = portal.errors()
    assert error == "That pin is not correct; check the app's clock and try the new code."
    assert portal.metric("Two-factor authentication") == "Pending"
    assert portal.has("enrol_pin"), "the enrolment stays open"

    portal.fill("enrol_pin", right).press("enrol_save")
    assert portal.errors() == []
    assert "Two-factor authentication is now enabled on your account." in portal.texts("success")
    codes = portal.shown_codes()
    assert len(codes) == 16 and len(set(codes)) == 16
    assert portal.metric("Two-factor authentication") == "On"
    assert portal.metric("Recovery codes left") == "16"
    assert portal.at.download_button(key="download_codes").label == "Download codes"
    assert "print them" in portal.page_text()
    assert not portal.has("enrol_pin") and not portal.has("add_2fa")
    assert secret not in portal.page_text().replace(" ", ""), "the key is never shown again"
    events = portal.at.table[0].value
    assert list(events["Event"]) == ["Two-factor authentication enabled"]
    assert list(events["By"]) == ["You"]

    portal.press("codes_saved")
    assert portal.shown_codes() == []
    assert portal.metric("Two-factor authentication") == "On"
    with session_scope(engine, readonly=True) as s:
        mails = s.exec(select(OutboxEmail)).all()
    assert [m.template for m in mails] == ["two_factor_enabled"]


def test_download_codes_file(portal, alice):
    codes = portal.enable("alice", PASSWORD)
    name, content = portal.download("download_codes")
    assert name == "huggingface-recovery-codes.txt"
    text = content.decode()
    assert "Account:   alice" in text
    assert [line for line in text.splitlines() if line in codes] == codes


def test_leaving_the_page_keeps_the_enrolment_open(portal, alice):
    secret = portal.sign_in("alice", PASSWORD).start_enrolment()
    portal.open("lost_everything").open("authentication")
    assert portal.metric("Two-factor authentication") == "Pending"
    assert secret in portal.page_text().replace(" ", "")
