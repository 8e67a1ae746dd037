"""The cancel link of a pending 2FA reset, opened in the portal like a user: the page shows the
reset, the button stops it once (the ticket is flagged, 2FA untouched), and the spent link
says so. Opening the link alone cancels nothing."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from core.accounts.tokens import issue_token
from core.clock import system_clock
from core.decisions import approve_ticket
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import OutboxEmail, PendingReset, Ticket, User
from core.twofactor import is_enabled
from tests.support.outbox_mail import delivered_text
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket
from tests.support.staff_members import add_staff

LINK = re.compile(r"http://localhost:8502/cancel-reset\?token=[A-Za-z0-9_\-]+")


@pytest.fixture
def pending(engine, alice, monkeypatch) -> int:
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "24")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=system_clock)
        user = s.get(User, alice.id)
        enable_two_factor(s, user, clock=system_clock)
        token = issue_token(s, user=user, name="ci", clock=system_clock).plaintext
        ticket = make_ticket(
            s, clock=system_clock, requester_email=user.email, claimed_username="alice"
        )
        add_evidence(s, ticket, "token", token, clock=system_clock)
        tid = ticket.id
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam")
    return tid


def open_link(portal, engine) -> None:
    with session_scope(engine, readonly=True) as s:
        (notice,) = s.exec(
            select(OutboxEmail).where(OutboxEmail.template == "two_factor_reset_pending")
        ).all()
    url = LINK.search(delivered_text(notice)).group(0)
    portal.at.query_params["token"] = parse_qs(urlsplit(url).query)["token"][0]
    portal.open("cancel_reset")


def state(engine, tid: int) -> tuple[str, bool, bool]:
    with session_scope(engine, readonly=True) as s:
        reset = s.exec(select(PendingReset)).one()
        on = is_enabled(s, s.exec(select(User).where(User.username == "alice")).one())
        return reset.status, s.get(Ticket, tid).flagged, on


def test_the_link_shows_the_reset_and_the_button_cancels_it_once(portal, engine, pending):
    open_link(portal, engine)
    assert "token" not in portal.at.query_params, "the token leaves the address bar"
    text = portal.page_text()
    assert "**alice**" in text and f"#{pending}" in text
    assert state(engine, pending) == ("pending", False, True), "opening alone cancels nothing"

    portal.press("cancel_reset_confirm")
    assert portal.texts("success")[0].startswith("The reset is cancelled")
    assert state(engine, pending) == ("cancelled", True, True)

    open_link(portal, engine)
    [error] = portal.errors()
    assert error.startswith("This link does not work any more")
    assert not portal.has("cancel_reset_confirm")


def test_a_made_up_token_and_no_token(portal, engine, pending):
    portal.open("cancel_reset")
    assert "Open this page from the link" in portal.page_text()
    portal.at.query_params["token"] = "x" * 43
    portal.open("cancel_reset")
    assert portal.errors()[0].startswith("This link does not work any more")
    assert state(engine, pending) == ("pending", False, True)
