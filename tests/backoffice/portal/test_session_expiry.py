"""Issue #10 item 15: a portal sign-in idle-expires like a staff session; activity keeps it."""

from __future__ import annotations

from tests.backoffice.portal.conftest import PASSWORD

IDLE_NOTICE = "You were signed out after 30 minutes without activity."


def signed_in(portal) -> bool:
    return "You are signed in as **alice**." in portal.page_text()


def test_idle_sign_in_ends_and_says_why(portal, alice):
    portal.sign_in("alice", PASSWORD)
    assert signed_in(portal)
    portal.clock.advance(minutes=31)
    portal.open("authentication")
    assert "Sign in to manage your two-factor authentication." in portal.texts("info")
    assert IDLE_NOTICE in portal.texts("info")
    assert portal.at.sidebar.caption[0].value == "Not signed in"


def test_activity_keeps_the_sign_in(portal, alice):
    portal.sign_in("alice", PASSWORD)
    for _ in range(3):
        portal.clock.advance(minutes=20)
        portal.open("sign_in")
        assert signed_in(portal)
    assert IDLE_NOTICE not in portal.texts("info")


def test_a_sign_in_waiting_for_its_code_expires_too(portal, alice):
    portal.enable("alice", PASSWORD)
    portal.sign_out().sign_in("alice", PASSWORD)
    assert portal.has("signin_pin")
    portal.clock.advance(minutes=31)
    portal.run()
    assert portal.has("signin_login") and not portal.has("signin_pin")
    assert IDLE_NOTICE in portal.texts("info")


def test_the_idle_limit_is_a_setting(portal, alice, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("BACKOFFICE_PORTAL_SESSION_IDLE_MINUTES", "5")
    get_settings.cache_clear()
    portal.sign_in("alice", PASSWORD)
    portal.clock.advance(minutes=6)
    portal.open("sign_in")
    assert not signed_in(portal)
    assert "You were signed out after 5 minutes without activity." in portal.texts("info")
