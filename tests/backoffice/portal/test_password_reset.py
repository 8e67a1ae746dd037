"""Forgot password? in the portal, driven like a user: ask for a link, open it from the email,
set a new password (with the second factor when 2FA is on), sign in with it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.backoffice.portal.conftest import PASSWORD
from tests.support.outbox_mail import delivered_text

NEW_PASSWORD = "another fine passphrase"
LINK = re.compile(r"http://localhost:8502/forgot-password\?token=[A-Za-z0-9_\-]+")


def reset_emails(engine) -> list[OutboxEmail]:
    with session_scope(engine, readonly=True) as s:
        return list(
            s.exec(select(OutboxEmail).where(OutboxEmail.template == "password_reset_link"))
        )


def ask_for_link(portal, email: str) -> str:
    portal.open("password_reset")
    portal.fill("reset_email", email).press("reset_send")
    [answer] = portal.texts("success")
    return answer


def open_link(portal, engine) -> None:
    """Open the newest link the way a browser does: the page at its URL with ``?token=``."""
    url = LINK.search(delivered_text(reset_emails(engine)[-1])).group(0)
    portal.at.query_params["token"] = parse_qs(urlsplit(url).query)["token"][0]
    portal.open("password_reset")


def set_password(portal, password: str = NEW_PASSWORD, again: str | None = None):
    portal.fill("reset_password", password).fill("reset_password_again", again or password)
    return portal.press("reset_submit")


def signed_in_as(portal, username: str) -> bool:
    return f"You are signed in as **{username}**." in portal.page_text()


def test_same_answer_for_known_and_unknown_addresses(portal, alice, engine):
    known = ask_for_link(portal, "alice@example.com")
    unknown = ask_for_link(portal, "nobody@example.com")
    assert known == unknown and "If an account uses that address" in known
    assert [m.to_addr for m in reset_emails(engine)] == ["alice@example.com"]


def test_the_link_sets_a_new_password_once_and_leaves_the_url(portal, alice, engine):
    ask_for_link(portal, "alice@example.com")
    open_link(portal, engine)
    assert "token" not in portal.at.query_params, "the token is cleared from the address bar"
    assert "Resetting the password of **alice**." in portal.page_text()
    assert not portal.has("reset_pin"), "no second factor without 2FA"

    set_password(portal)
    assert "Your password was changed. Sign in with the new one." in portal.page_text()
    portal.sign_in("alice", PASSWORD)
    assert portal.errors() == ["Wrong username/email or password."]
    portal.sign_in("alice", NEW_PASSWORD)
    assert signed_in_as(portal, "alice")

    portal.sign_out()
    open_link(portal, engine)
    [error] = portal.errors()
    assert error.startswith("This reset link does not work any more")
    portal.press("reset_new_link")
    assert portal.has("reset_email")


def test_mismatched_passwords_keep_the_link(portal, alice, engine):
    ask_for_link(portal, "alice@example.com")
    open_link(portal, engine)
    set_password(portal, again="something else entirely")
    assert portal.errors() == ["The two passwords differ."]
    set_password(portal)
    assert "Your password was changed. Sign in with the new one." in portal.page_text()


def test_with_2fa_the_link_also_asks_for_a_code(portal, alice, engine):
    codes = portal.enable("alice", PASSWORD)
    portal.sign_out()
    ask_for_link(portal, "alice@example.com")
    open_link(portal, engine)
    text = portal.page_text()
    assert "Two-factor authentication is on for this account" in text
    assert "Lost both your authenticator app and your recovery codes?" in text
    assert portal.has("reset_pin")

    portal.fill("reset_pin", "000000")
    set_password(portal)
    assert portal.errors() == ["That code is not correct."]

    portal.at.radio(key="reset_factor").set_value("A recovery code")
    portal.run()
    portal.fill("reset_recovery_code", codes[0])
    set_password(portal)
    assert "Your password was changed. Sign in with the new one." in portal.page_text()
    portal.sign_in("alice", NEW_PASSWORD)
    assert portal.has("signin_pin"), "2FA is still on after the reset"
