"""Who may decide is settled in ``core`` (issue #10 items 9 and 10): an unknown, deactivated
or read-only staff member is refused with ``Forbidden`` and nothing changes; a staff or
high-value account needs a first approval and a different admin's confirmation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.accounts.tokens import issue_token
from core.decisions import approve_ticket, deny_ticket, request_more_information
from core.decisions.service import AWAITING_CONFIRMATION
from core.errors import Forbidden, TicketChanged
from core.staff import create_staff, update_staff
from core.stats.mail import retry_email
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, Ticket, User
from core.twofactor import is_enabled
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff


@pytest.fixture
def team(engine, clock):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        add_staff(s, "ada", role="admin", clock=clock)
        add_staff(s, "bea", role="admin", clock=clock)
        add_staff(s, "otto", role="ops", clock=clock)
        add_staff(s, "gone", clock=clock, active=False)


def strong_ticket(engine, clock, username: str = "alice", *, high_value: bool = False) -> int:
    """A ticket for ``username`` (2FA on) with the account's token as evidence."""
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = make_user(s, username, clock=clock)
        user.high_value = high_value
        if not is_enabled(s, user):
            enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name="ci", clock=clock).plaintext
        ticket = make_ticket(
            s, clock=clock, requester_email=user.email, claimed_username=user.username
        )
        add_evidence(s, ticket, "token", token, clock=clock)
        return ticket.id


def two_factor_on(engine, username: str) -> bool:
    with session_scope(engine) as s:
        return is_enabled(s, s.exec(select(User).where(User.username == username)).one())


def events(engine, tid: int) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.ticket_id == tid)).all()
    return [(r.action, r.actor) for r in rows]


@pytest.mark.parametrize(
    ("staff", "message"),
    [
        ("nobody", "not a staff member"),
        ("gone", "deactivated"),
        ("otto", r"\(ops\) may not decide"),
        ("alice", "not a staff member"),
    ],
)
def test_only_active_deciding_staff_decide(engine, clock, team, staff, message):
    tid = strong_ticket(engine, clock)
    for decide in (
        lambda s: approve_ticket(s, ticket_id=tid, staff=staff, clock=clock),
        lambda s: deny_ticket(s, ticket_id=tid, staff=staff, reason="no", clock=clock),
        lambda s: request_more_information(s, ticket_id=tid, staff=staff, message="?", clock=clock),
    ):
        with pytest.raises(Forbidden, match=message), session_scope(engine) as s:
            decide(s)
    assert two_factor_on(engine, "alice") and events(engine, tid) == []
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "open"


def test_a_deactivation_takes_effect_on_the_next_decision(engine, clock, team):
    tid = strong_ticket(engine, clock)
    with session_scope(engine) as s:
        update_staff(s, username="sam", actor="staff:ada", active=False)
    with pytest.raises(Forbidden), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    assert two_factor_on(engine, "alice")


def test_staff_management_and_mail_actions_check_the_role(engine, clock, team):
    with pytest.raises(Forbidden), session_scope(engine) as s:
        update_staff(s, username="sam", actor="staff:sam", role="admin")
    with pytest.raises(Forbidden), session_scope(engine) as s:
        update_staff(s, username="sam", actor="staff:nobody", active=False)
    with session_scope(engine) as s:
        s.add(
            OutboxEmail(
                message_id="<m@x>",
                template="t",
                to_addr="a@example.org",
                subject="s",
                body_text="b",
                body_html="b",
                headers={},
                status="failed",
                attempts=8,
                created_at=clock(),
                next_attempt_at=clock(),
            )
        )
    with session_scope(engine) as s:
        email_id = s.exec(select(OutboxEmail.id)).one()
    for who in ("staff:otto", "staff:gone", "staff:nobody"):
        with pytest.raises(Forbidden), session_scope(engine) as s:
            retry_email(s, email_id=email_id, actor=who, clock=clock)
    with session_scope(engine) as s:
        assert retry_email(s, email_id=email_id, actor="staff:sam", clock=clock).status == "queued"


def test_a_staff_account_is_reset_only_after_a_different_admin_confirms(engine, clock, team):
    with session_scope(engine) as s:
        create_staff(s, username="root", email="root@x.org", role="admin", password="p" * 12)
    tid = strong_ticket(engine, clock, "root")

    with session_scope(engine) as s:
        first = approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    assert first.status == AWAITING_CONFIRMATION and two_factor_on(engine, "root")
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.status == "open" and ticket.flagged
        assert "staff account" in ticket.flag_reason and "sam" in ticket.flag_reason
    with pytest.raises(Forbidden, match="different admin"), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    with pytest.raises(Forbidden, match="may not confirm"), session_scope(engine) as s:
        add_staff(s, "tom", clock=clock)
        approve_ticket(s, ticket_id=tid, staff="tom", clock=clock)
    assert two_factor_on(engine, "root")

    with session_scope(engine) as s:
        done = approve_ticket(s, ticket_id=tid, staff="ada", clock=clock)
    assert done.status == "approved" and not two_factor_on(engine, "root")
    approved = [e for e in events(engine, tid) if e[0] == "ticket.approved"]
    assert approved == [("ticket.approved", "staff:ada")]
    with session_scope(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "ticket.approved")).one()
        assert event.details["first_approval_by"] == "staff:sam"


def test_an_admin_cannot_confirm_their_own_first_approval(engine, clock, team):
    tid = strong_ticket(engine, clock, "vip", high_value=True)
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="ada", clock=clock).status == (
            AWAITING_CONFIRMATION
        )
    with pytest.raises(Forbidden), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="ada", clock=clock)
    assert two_factor_on(engine, "vip")
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="bea", clock=clock).status == "approved"
    assert not two_factor_on(engine, "vip")


def test_a_change_after_the_first_approval_voids_it(engine, clock, team):
    tid = strong_ticket(engine, clock, "vip", high_value=True)
    with session_scope(engine) as s:
        seen = approve_ticket(s, ticket_id=tid, staff="sam", clock=clock).version
    with session_scope(engine) as s:  # a new email arrives: the ticket moves on
        ticket = s.get(Ticket, tid)
        ticket.version += 1
    with pytest.raises(TicketChanged), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="ada", expected_version=seen, clock=clock)
    with session_scope(engine) as s:  # without the stale version: a new first approval
        again = approve_ticket(s, ticket_id=tid, staff="ada", clock=clock)
    assert again.status == AWAITING_CONFIRMATION and two_factor_on(engine, "vip")


def test_an_ordinary_account_is_still_reset_by_one_agent(engine, clock, team):
    tid = strong_ticket(engine, clock)
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="sam", clock=clock).status == "approved"
    assert not two_factor_on(engine, "alice")
