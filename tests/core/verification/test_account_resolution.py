"""Account resolution never prefers a claim over the sender without saying so on the
report (issue #11, class 4), on SQLite and PostgreSQL."""

from __future__ import annotations

from core.store import session_scope
from core.verification import verify_ticket
from tests.support.recovery_tickets import make_ticket, make_user


def report_for(engine, clock, **ticket):
    with session_scope(engine) as s:
        make_user(s, "alice", clock=clock)
        make_user(s, "bob", clock=clock)
        return verify_ticket(s, make_ticket(s, clock=clock, **ticket), clock=clock)


def test_a_claim_over_the_senders_own_account_is_flagged_as_preferred(engine, clock):
    report = report_for(engine, clock, requester_email="bob@example.org", claimed_username="alice")
    assert report.username == "alice"
    (flag,) = [f for f in report.flags if "another account" in f]
    assert "(bob)" in flag and "'alice' was preferred" in flag
    assert report.recommendation != "approve"


def test_a_claim_from_a_sender_with_no_account_says_where_the_account_came_from(engine, clock):
    report = report_for(
        engine, clock, requester_email="stranger@example.net", claimed_username="alice"
    )
    assert report.username == "alice"
    assert any("comes from the claim 'alice' only" in f for f in report.flags)
    check = next(c for c in report.checks if c.name == "account")
    assert "from the claim 'alice'" in check.reason


def test_the_sender_alone_resolves_without_a_claim_flag(engine, clock):
    report = report_for(engine, clock, requester_email="bob@example.org")
    assert report.username == "bob"
    assert not any("claim" in f for f in report.flags)


def test_a_claim_matching_the_sender_raises_no_flag(engine, clock):
    report = report_for(
        engine, clock, requester_email="alice@example.org", claimed_username="alice"
    )
    assert report.username == "alice" and report.flags == []
