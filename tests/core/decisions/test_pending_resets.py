"""Cooling-off of approved 2FA resets (issue #13 item 3): the approval schedules the reset and
emails the owner a single-use cancel link; the reset applies only once due, exactly once
however many appliers race; the link stops it for good, flags the ticket and tells the owner.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from core.accounts.tokens import authenticate_token, issue_token
from core.decisions import approve_ticket, preview_decision_email
from core.decisions.pending_resets import (
    InvalidCancelLink,
    apply_due_resets,
    cancel_reset,
    inspect_cancel_link,
    reset_for_ticket,
)
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, PendingReset, Ticket, User
from core.twofactor import is_enabled
from tests.core.test_no_plaintext_secrets import dump_database
from tests.support.outbox_mail import delivered_bodies, delivered_text
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff


@pytest.fixture(autouse=True)
def cooling_off(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "24")
    get_settings.cache_clear()


@pytest.fixture
def approved(engine, clock):
    """alice (2FA on) and an approved ticket exposing her token; returns ids and the link."""
    tid, uid, token = requested(engine, clock)
    with session_scope(engine) as s:
        decision = approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    return {"tid": tid, "uid": uid, "token": token, "decision": decision}


def requested(engine, clock, token_name: str = "ci") -> tuple[int, int, str]:
    """Staff member sam, alice with 2FA on, and her ticket quoting one of her tokens named
    ``token_name``: (ticket id, alice's id, the token)."""
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        user = make_user(s, "alice", clock=clock)
        enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name=token_name, clock=clock).plaintext
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "token", token, clock=clock)
        return ticket.id, user.id, token


def enabled(engine, uid) -> bool:
    with session_scope(engine) as s:
        return is_enabled(s, s.get(User, uid))


def mails(engine, template):
    with session_scope(engine) as s:
        return s.exec(select(OutboxEmail).where(OutboxEmail.template == template)).all()


def cancel_token(engine) -> str:
    (notice,) = mails(engine, "two_factor_reset_pending")
    url = re.search(r"http\S+cancel-reset\?token=\S+", delivered_text(notice)).group(0)
    return parse_qs(urlparse(url).query)["token"][0]


def test_approval_schedules_the_reset_and_emails_the_owner_a_cancel_link(engine, clock, approved):
    decision = approved["decision"]
    assert decision.status == "approved"
    assert decision.reset_due_at == clock() + timedelta(hours=24)
    assert enabled(engine, approved["uid"]), "nothing reset before the delay"
    with session_scope(engine) as s:
        assert authenticate_token(s, approved["token"], clock=clock) is None, "token revoked now"
        row = s.exec(select(PendingReset)).one()
        assert row.status == "pending" and approved["tid"] == row.ticket_id
        view = reset_for_ticket(s, approved["tid"])
        assert view.status == "pending" and view.due_at == decision.reset_due_at
    (notice,) = mails(engine, "two_factor_reset_pending")
    assert notice.to_addr == "alice@example.org" and "not you?" in notice.subject
    token = cancel_token(engine)
    assert token not in row.cancel_token_hash and len(row.cancel_token_hash) == 64
    assert mails(engine, "approved") == [], "the reset email waits for the reset"


def test_the_worker_applies_the_reset_only_once_due(engine, clock, approved):
    clock.advance(hours=23, minutes=59)
    assert apply_due_resets(engine, clock=clock) == 0
    assert enabled(engine, approved["uid"])
    clock.advance(minutes=1)
    assert apply_due_resets(engine, clock=clock) == 1
    assert not enabled(engine, approved["uid"])
    assert apply_due_resets(engine, clock=clock) == 0
    (approval,) = mails(engine, "approved")
    assert approval.to_addr == "alice@example.org" and "ci" in approval.body_text
    with session_scope(engine) as s:
        actions = s.exec(
            select(AuditEvent.action).where(AuditEvent.ticket_id == approved["tid"])
        ).all()
        assert actions.count("2fa.reset_by_support") == 1
        assert reset_for_ticket(s, approved["tid"]).status == "applied"
    with pytest.raises(InvalidCancelLink), session_scope(engine) as s:
        cancel_reset(s, token=cancel_token(engine), clock=clock)


def test_the_link_cancels_once_flags_the_ticket_and_the_reset_never_applies(
    engine, clock, approved
):
    token = cancel_token(engine)
    with session_scope(engine) as s:
        assert inspect_cancel_link(s, token=token).username == "alice"
    clock.advance(hours=1)
    with session_scope(engine) as s:
        cancelled = cancel_reset(s, token=token, clock=clock)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at == clock()
    for attempt in (token, token + "x", ""):
        with pytest.raises(InvalidCancelLink), session_scope(engine) as s:
            cancel_reset(s, token=attempt, clock=clock)
    clock.advance(hours=48)
    assert apply_due_resets(engine, clock=clock) == 0
    assert enabled(engine, approved["uid"])
    with session_scope(engine) as s:
        ticket = s.get(Ticket, approved["tid"])
        assert ticket.flagged and "cancelled" in ticket.flag_reason
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.reset_cancelled")).all()
        assert [e.actor for e in events] == ["owner:cancel-link"]
    (notice,) = mails(engine, "two_factor_reset_cancelled")
    assert notice.to_addr == "alice@example.org"


def test_concurrent_appliers_and_a_cancel_leave_pending_exactly_once(engine, clock, approved):
    clock.advance(hours=24)
    token = cancel_token(engine)
    barrier = threading.Barrier(4)
    applied: list[int] = []
    outcomes: list[str] = []

    def apply() -> None:
        barrier.wait()
        applied.append(apply_due_resets(engine, clock=clock))

    def cancel() -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                cancel_reset(s, token=token, clock=clock)
            outcomes.append("cancelled")
        except InvalidCancelLink:
            outcomes.append("too late")

    threads = [threading.Thread(target=apply) for _ in range(3)]
    threads.append(threading.Thread(target=cancel))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(applied) == 3 and len(outcomes) == 1
    assert sum(applied) + outcomes.count("cancelled") == 1, (applied, outcomes)
    with session_scope(engine) as s:
        resets = s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.reset_by_support")).all()
    assert len(resets) == sum(applied)
    assert len(mails(engine, "approved")) == sum(applied)
    assert enabled(engine, approved["uid"]) == (outcomes == ["cancelled"])


def test_two_appliers_on_many_due_resets_apply_each_once(engine, clock):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        tids = []
        for n in range(6):
            user = make_user(s, f"user{n}", clock=clock)
            enable_two_factor(s, user, clock=clock)
            token = issue_token(s, user=user, name="ci", clock=clock).plaintext
            ticket = make_ticket(
                s, clock=clock, requester_email=user.email, claimed_username=user.username
            )
            add_evidence(s, ticket, "token", token, clock=clock)
            tids.append(ticket.id)
    for tid in tids:
        with session_scope(engine) as s:
            approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    clock.advance(hours=25)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def apply() -> None:
        barrier.wait()
        counts.append(apply_due_resets(engine, clock=clock))

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 6, counts
    with session_scope(engine) as s:
        assert len(s.exec(select(PendingReset).where(PendingReset.status == "applied")).all()) == 6
        assert (
            len(s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.reset_by_support")).all())
            == 6
        )


def test_no_delay_resets_at_approval(engine, clock, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "0")
    get_settings.cache_clear()
    tid, uid, _token = requested(engine, clock)
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="sam", clock=clock).reset_due_at is None
    assert not enabled(engine, uid)
    with session_scope(engine) as s:
        assert s.exec(select(PendingReset)).all() == []


def test_the_notice_lists_the_tokens_revoked_now_and_the_preview_shows_it(engine, clock):
    tid, _uid, token = requested(engine, clock, token_name="laptop-token")
    with session_scope(engine) as s:
        preview = preview_decision_email(s, ticket_id=tid, kind="approved", clock=clock)
    assert "not you?" in preview.subject and "laptop-token" in preview.text
    assert "made when you confirm" in preview.text and "2026-11-29 12:00 UTC" in preview.text
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    (notice,) = mails(engine, "two_factor_reset_pending")
    text, html = delivered_bodies(notice)
    assert notice.subject == preview.subject and "laptop-token" in text
    assert token not in text and token not in html


def test_the_cancel_link_is_stored_sealed_and_delivered_whole(engine, approved):
    """The cancel link is a bearer secret until the reset applies: the outbox keeps the
    email encrypted, the database holds the link nowhere in the clear, and the message the
    sender builds carries it."""
    token = cancel_token(engine)  # read from the message as delivered
    (notice,) = mails(engine, "two_factor_reset_pending")
    assert notice.sealed and "cancel-reset" not in notice.body_text + notice.body_html
    assert token not in dump_database(engine)
    assert f"cancel-reset?token={token}" in delivered_bodies(notice)[1].replace("&amp;", "&")
