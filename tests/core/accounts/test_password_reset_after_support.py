"""The route for a user who lost the password and the second factor: support approves the
recovery request (2FA reset), the approval email links to *Forgot password?*, and the link
then sets a new password with no second factor to ask for."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from core.accounts.password_reset import complete_password_reset, request_password_reset
from core.accounts.tokens import issue_token
from core.decisions import approve_ticket
from core.store import session_scope
from core.store.tables import OutboxEmail
from core.twofactor import sign_in_password
from tests.support.outbox_mail import delivered_text
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff


def newest(engine, template: str) -> OutboxEmail:
    with session_scope(engine, readonly=True) as s:
        return s.exec(
            select(OutboxEmail)
            .where(OutboxEmail.template == template)
            .order_by(OutboxEmail.id.desc())
        ).first()


def test_support_approval_links_to_the_reset_which_then_needs_no_second_factor(engine, clock):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        user = make_user(s, "alice", clock=clock, password="forgotten long ago")
        enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name="ci-token", clock=clock).plaintext
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "token", token, clock=clock)
        ticket_id = ticket.id
    clock.advance(hours=1)
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=ticket_id, staff="sam", clock=clock)

    approved = newest(engine, "approved")
    page = "http://localhost:8502/forgot-password"
    assert f"Forgot your password too? Reset it at {page}" in approved.body_text
    assert f'href="{page}"' in approved.body_html

    with session_scope(engine) as s:
        request_password_reset(s, email="alice@example.org", clock=clock)
    body = delivered_text(newest(engine, "password_reset_link"))
    link = re.search(r"\S+forgot-password\?token=\S+", body).group(0)
    token = parse_qs(urlsplit(link).query)["token"][0]
    with session_scope(engine) as s:
        complete_password_reset(s, token=token, new_password="remembered this time", clock=clock)
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password="remembered this time").complete
