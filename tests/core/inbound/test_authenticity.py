"""Sender authenticity: which Authentication-Results count (trusted authserv-id, topmost
run), what each message shows, and that a reply failing DMARC threads flagged, on the
ticket and on its verification report, on both databases."""

from __future__ import annotations

import pytest

from core.inbound.authenticity import sender_authenticity, trusted_ids
from core.inbound.parsing import parse_message
from core.inbound.prepare import prepare
from core.settings import get_settings
from core.store import session_scope
from core.tickets.views import ticket_view
from core.verification import latest_report
from core.verification.sender_authenticity import SenderAuthenticity, authenticity_flags
from tests.support.mail import recovery_email

MX = frozenset({"mx.support.example"})
PASS = (
    "mx.support.example; spf=pass smtp.mailfrom=example.org; "
    "dkim=pass header.d=example.org; dmarc=pass header.from=example.org"
)
FAIL = (
    "mx.support.example; spf=fail smtp.mailfrom=example.org; dkim=none; "
    "dmarc=fail (p=reject) header.from=example.org"
)


def stamped(raw: bytes, *results: str) -> bytes:
    """``raw`` with ``Authentication-Results`` headers on top, the first one topmost."""
    lines = b"".join(f"Authentication-Results: {r}\r\n".encode() for r in results)
    return lines + raw


def read(*results: str, trusted=MX) -> SenderAuthenticity:
    parsed = parse_message(stamped(recovery_email(), *results), max_bytes=10_000_000)
    return sender_authenticity(parsed.authentication_results, trusted)


def test_pass_from_the_trusted_receiver():
    auth = read(PASS)
    assert (auth.spf, auth.dkim, auth.dmarc, auth.authserv_id) == (
        "pass",
        "pass",
        "pass",
        "mx.support.example",
    )
    assert auth.risk("The first message") is None
    assert auth.words() == "SPF pass · DKIM pass · DMARC pass (by mx.support.example)"


def test_dmarc_fail_is_a_risk():
    auth = read(FAIL)
    assert (auth.spf, auth.dkim, auth.dmarc) == ("fail", "none", "fail")
    assert auth.risk("A reply") == (
        "A reply failed DMARC at mx.support.example: its From address may be forged."
    )


def test_absent_results_are_no_pass():
    auth = read()
    assert (auth.spf, auth.dkim, auth.dmarc, auth.authserv_id) == (
        "absent",
        "absent",
        "absent",
        None,
    )
    assert "no DMARC pass" in auth.risk("The first message")
    assert auth.words().endswith("(no trusted result)")


def test_untrusted_authserv_id_does_not_count():
    auth = read("mx.attacker.example; spf=pass; dkim=pass; dmarc=pass")
    assert auth.dmarc == "absent" and auth.authserv_id is None
    assert auth.risk("The first message") is not None


def test_nothing_trusted_reads_not_checked_and_flags_nothing():
    auth = read(PASS, trusted=trusted_ids(""))
    assert auth.dmarc == "unknown" and auth.risk("The first message") is None
    assert "not checked" in auth.words()


def test_a_forged_header_below_ours_cannot_overturn_it():
    """The sender wrote a trusted-looking pass into the mail; our receiver's fail sits on top."""
    assert read(FAIL, PASS).dmarc == "fail"
    # below an untrusted hop the run has ended: the sender's own pass does not count
    auth = read("mx.support.example; spf=fail", "relay.elsewhere.example; none", PASS)
    assert (auth.spf, auth.dmarc) == ("fail", "absent")


def test_several_headers_of_our_receiver_combine():
    """One header per filter (SPF, DKIM, DMARC), an internal hop's header above them, and a
    second DKIM signature that passed."""
    auth = read(
        "filter.internal; none",
        "MX.support.example; dmarc=pass header.from=example.org",
        "mx.support.example; dkim=fail header.d=other.example; dkim=pass header.d=example.org",
        "mx.support.example 1; spf=softfail smtp.mailfrom=example.org",
    )
    assert (auth.spf, auth.dkim, auth.dmarc) == ("softfail", "pass", "pass")
    assert auth.authserv_id == "mx.support.example"  # ids compare case-insensitively


def test_malformed_header_is_ignored():
    assert read("mx.support.example; ;;; ==", PASS).dmarc == "pass"


def test_trusted_ids_setting():
    assert trusted_ids(" MX.a.example, mx.b.example ,,") == {"mx.a.example", "mx.b.example"}


def test_report_flags_name_the_message():
    stored = [read(PASS).as_dict(), None, read(FAIL).as_dict()]
    assert authenticity_flags(stored) == [
        "Reply 2 failed DMARC at mx.support.example: its From address may be forged."
    ]


def test_prepare_reads_the_setting(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TRUSTED_AUTHSERV_IDS", "mx.support.example")
    get_settings.cache_clear()
    assert prepare(stamped(recovery_email(), FAIL)).authenticity.dmarc == "fail"
    monkeypatch.delenv("BACKOFFICE_TRUSTED_AUTHSERV_IDS")
    get_settings.cache_clear()
    assert prepare(stamped(recovery_email(), FAIL)).authenticity.dmarc == "unknown"


@pytest.fixture
def trusting_mx(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TRUSTED_AUTHSERV_IDS", "mx.support.example")
    get_settings.cache_clear()


def test_dmarc_failed_reply_threads_flagged_on_ticket_and_report(trusting_mx, inbox, engine, clock):
    """A genuine request with a strong proof, then a reply whose From failed DMARC: the
    reply still joins the ticket (the conversation stays whole), but the ticket is flagged,
    the report carries the risk and recommends a review instead of approval, and the page
    shows each message's results in words."""
    from core.accounts.tokens import issue_token
    from tests.support.recovery_tickets import make_user

    with session_scope(engine) as s:
        alice = make_user(s, "alice", clock=clock)
        token = issue_token(s, user=alice, name="laptop", clock=clock).plaintext
    first = inbox.ingest(
        stamped(
            recovery_email(
                message_id="<auth-1@example.org>",
                sender=f"Alice <{alice.email}>",
                body=f"My username is alice. Token: {token}\n",
            ),
            PASS,
        )
    )
    assert first.status == "ticket" and not first.flagged
    with session_scope(engine, readonly=True) as s:
        assert latest_report(s, first.ticket_id).recommendation == "approve"

    reply = inbox.ingest(
        stamped(
            recovery_email(
                message_id="<auth-2@example.org>",
                sender=f"Alice <{alice.email}>",
                subject="Re: Lost my authenticator",
                in_reply_to="<auth-1@example.org>",
                body="Please reset it now.",
            ),
            FAIL,
            PASS,  # the forger's own header, below our receiver's
        )
    )
    assert (reply.status, reply.ticket_id, reply.flagged) == ("threaded", first.ticket_id, True)
    ticket = inbox.ticket(first.ticket_id)
    assert ticket.flagged and "A reply failed DMARC" in ticket.flag_reason
    assert [m.sender_auth["dmarc"] for m in inbox.messages(ticket.id) if m.direction == "in"] == [
        "pass",
        "fail",
    ]
    with session_scope(engine, readonly=True) as s:
        report = latest_report(s, ticket.id)
        view = ticket_view(s, ticket.id, clock=clock)
    assert report.recommendation == "review"
    assert "Reply 1 failed DMARC at mx.support.example: its From address may be forged." in (
        report.flags
    )
    assert view.report.flags == report.flags
    shown = [m.authenticity for m in view.messages if m.inbound]
    assert shown == [
        "SPF pass · DKIM pass · DMARC pass (by mx.support.example)",
        "SPF fail · DKIM none · DMARC fail (by mx.support.example)",
    ]


def test_unauthenticated_first_message_opens_a_flagged_ticket(trusting_mx, inbox):
    outcome = inbox.ingest(recovery_email(sender="bob@example.org"))
    assert outcome.status == "ticket" and outcome.flagged
    assert "has no DMARC pass (DMARC absent)" in inbox.ticket(outcome.ticket_id).flag_reason
