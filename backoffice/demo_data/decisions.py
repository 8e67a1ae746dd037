"""Two decisions the demo starts with (issue #13): a 2FA reset approved by a second staff
member and waiting out a day's cooling-off (its "not you?" email, with the cancel link, goes
to the local mail capture), and a weak-evidence ticket with a first approval, waiting for a
second approver (the demo's admin can confirm it). Both come from emails ingested through the
real pipeline; the demo's own approvals reset at once (cooling-off 0)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Engine

from core.accounts.ssh_keys import add_ssh_key
from core.accounts.tokens import issue_token
from core.accounts.users import create_user
from core.clock import Clock, FrozenClock
from core.decisions import approve_ticket
from core.inbound import ingest_bytes
from core.staff import create_staff
from core.store import session_scope
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.totp import code_at_step, time_step

SECOND_STAFF = {"username": "kim", "email": "kim@support.example", "role": "agent"}
"""Gives the first approvals; never signs in during the demo (its password is not kept)."""
DEMO_COOLING_OFF = timedelta(hours=24)


@dataclass(frozen=True)
class DemoDecisions:
    pending_reset_ticket: int
    """Approved; the 2FA reset waits a day unless the owner cancels it."""
    awaiting_second_approver: int


def _account(s, username: str, *, clock: Clock):
    user = create_user(
        s,
        username=username,
        email=f"{username}@example.org",
        password=secrets.token_urlsafe(12),
        clock=clock,
    )
    secret = begin_enrolment(s, user=user, clock=clock).secret
    confirm_enrolment(s, user=user, pin=code_at_step(secret, time_step(clock()) - 1), clock=clock)
    return user


def _mail(sender: str, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "website@huggingface.co"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(body)
    return msg.as_bytes()


def make_demo_decisions(
    engine: Engine, *, public_key: str, history: Clock, clock: Clock
) -> DemoDecisions:
    """``public_key``: an OpenSSH public key line for the weak-evidence account."""
    with session_scope(engine) as s:
        create_staff(s, password=secrets.token_urlsafe(16), clock=history, **SECOND_STAFF)
        frank = _account(s, "frank", clock=history)
        token = issue_token(s, user=frank, name="laptop", clock=history).plaintext
        grace = _account(s, "grace", clock=history)
        add_ssh_key(s, user=grace, public_key=public_key, clock=history)
    received = FrozenClock(clock() - timedelta(hours=2))
    with session_scope(engine) as s:
        strong = ingest_bytes(
            s,
            _mail(
                "Frank <frank@example.org>",
                "New phone, old authenticator gone",
                f"Hello, my phone was replaced and my codes are gone.\n"
                f"Username: frank\nMy token is {token}\nThanks, Frank",
            ),
            source="demo:decisions",
            clock=received,
        ).ticket_id
        weak = ingest_bytes(
            s,
            _mail(
                "Grace <grace@example.org>",
                "Locked out after a reinstall",
                f"Hi, I reinstalled my laptop and lost my authenticator.\n"
                f"Username: grace\nMy public key:\n{public_key}\n",
            ),
            source="demo:decisions",
            clock=received,
        ).ticket_id
    decided = FrozenClock(clock() - timedelta(hours=1))
    with session_scope(engine) as s:
        approve_ticket(
            s, ticket_id=strong, staff="kim", cooling_off=DEMO_COOLING_OFF, clock=decided
        )
    with session_scope(engine) as s:
        approve_ticket(
            s,
            ticket_id=weak,
            staff="kim",
            reason="Recognised her voice on a video call; the key is hers.",
            clock=decided,
        )
    return DemoDecisions(pending_reset_ticket=strong, awaiting_second_approver=weak)
