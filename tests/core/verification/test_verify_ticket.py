"""verify_ticket on real accounts, keys, tokens and signatures: weak vs strong evidence, the
flags, and what it stores on the ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from core.accounts.ssh_keys import add_ssh_key, parse_public_key, revoke_ssh_key
from core.accounts.tokens import issue_token, revoke_token
from core.accounts.users import get_user
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import Ticket, VerificationReportRow
from core.tickets.challenge import challenge_text
from core.verification import latest_report, verify_ticket
from tests.conftest import require
from tests.support.recovery_tickets import add_evidence, make_ticket, make_user
from tests.support.signing import SSH_KEYGEN, make_key, sign


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    require(SSH_KEYGEN is not None, "ssh-keygen is not installed")
    folder = tmp_path_factory.mktemp("keys")
    return {name: make_key(folder, "ed25519", name) for name in ("alice", "bob")} | {
        "alice_ecdsa": make_key(folder, "ecdsa", "alice_ecdsa")
    }


@pytest.fixture
def world(engine, clock, keys):
    """alice (ed25519 + ecdsa keys, a token) and bob (a key, a token)."""
    with session_scope(engine) as s:
        alice = make_user(s, "alice", clock=clock)
        bob = make_user(s, "bob", clock=clock)
        add_ssh_key(s, user=alice, public_key=keys["alice"].public_line, clock=clock)
        add_ssh_key(s, user=alice, public_key=keys["alice_ecdsa"].public_line, clock=clock)
        add_ssh_key(s, user=bob, public_key=keys["bob"].public_line, clock=clock)
        alice_token = issue_token(s, user=alice, name="ci", clock=clock).plaintext
        bob_token = issue_token(s, user=bob, name="laptop", clock=clock).plaintext
    return {"alice_token": alice_token, "bob_token": bob_token}


def verify(engine, ticket_id, clock):
    with session_scope(engine) as s:
        ticket = s.get(Ticket, ticket_id)
        report = verify_ticket(s, ticket, clock=clock)
    return report


def results(report):
    return [(c.name, c.result) for c in report.checks]


def new_ticket(engine, clock, *, sender="alice@example.org", username="alice", evidence=()):
    with session_scope(engine) as s:
        ticket = make_ticket(s, clock=clock, requester_email=sender, claimed_username=username)
        for kind, value in evidence:
            add_evidence(s, ticket, kind, value(ticket) if callable(value) else value, clock=clock)
        return ticket.id


def test_a_matching_public_key_is_only_weak(engine, clock, world, keys):
    tid = new_ticket(engine, clock, evidence=[("ssh_public_key", keys["alice"].public_line)])
    report = verify(engine, tid, clock)
    assert results(report) == [
        ("account", "pass"),
        ("sender_address", "pass"),
        ("ssh_public_key", "weak"),
    ]
    assert report.strength == "weak"
    assert report.recommendation == "request_more_information"
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.evidence_strength == "weak"
        assert ticket.user_id == report.user_id
        assert latest_report(s, tid) == report


def test_quoted_md5_and_sha256_fingerprints_are_weak(engine, clock, world, keys):
    key = parse_public_key(keys["alice_ecdsa"].public_line)
    tid = new_ticket(
        engine,
        clock,
        evidence=[("fingerprint", key.fingerprint_md5), ("fingerprint", key.fingerprint_sha256)],
    )
    report = verify(engine, tid, clock)
    assert results(report)[2:] == [("fingerprint", "weak"), ("fingerprint", "weak")]
    assert report.strength == "weak"


@pytest.mark.parametrize("key_name", ["alice", "alice_ecdsa"])
def test_a_signed_challenge_is_strong(engine, clock, world, keys, key_name):
    namespace = get_settings().sshsig_namespace
    tid = new_ticket(
        engine,
        clock,
        evidence=[("ssh_signature", lambda t: sign(keys[key_name], challenge_text(t), namespace))],
    )
    report = verify(engine, tid, clock)
    assert results(report)[-1] == ("ssh_signature", "pass")
    assert report.strength == "strong"
    assert report.recommendation == "approve"
    assert report.flags == []


def test_a_revoked_key_proves_nothing_quoted_or_signing(engine, clock, world, keys):
    """A key its owner revoked (lost laptop, leaked key) is neither weak nor strong evidence."""
    key = parse_public_key(keys["alice"].public_line)
    with session_scope(engine) as s:
        revoke_ssh_key(s, user=get_user(s, "alice"), fingerprint=key.fingerprint_sha256)
    namespace = get_settings().sshsig_namespace
    tid = new_ticket(
        engine,
        clock,
        evidence=[
            ("ssh_public_key", keys["alice"].public_line),
            ("ssh_signature", lambda t: sign(keys["alice"], challenge_text(t), namespace)),
        ],
    )
    report = verify(engine, tid, clock)
    assert ("ssh_public_key", "fail") in results(report)
    assert ("ssh_signature", "fail") in results(report)
    assert report.strength == "none"


def test_a_signature_that_arrives_after_the_challenge_expired_fails(engine, clock, world, keys):
    namespace = get_settings().sshsig_namespace
    with session_scope(engine) as s:
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        late = ticket.challenge_expires_at + timedelta(seconds=1)
        add_evidence(
            s,
            ticket,
            "ssh_signature",
            sign(keys["alice"], challenge_text(ticket), namespace),
            clock=clock,
            at=late,
        )
        tid = ticket.id
    report = verify(engine, tid, clock)
    assert results(report)[-1] == ("ssh_signature", "fail")
    assert "after the challenge expired" in report.checks[-1].reason
    assert report.strength == "none"


def test_a_signature_of_another_tickets_challenge_fails(engine, clock, world, keys):
    namespace = get_settings().sshsig_namespace
    with session_scope(engine) as s:
        first = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        second = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(
            s,
            second,
            "ssh_signature",
            sign(keys["alice"], challenge_text(first), namespace),
            clock=clock,
        )
        tid = second.id
    report = verify(engine, tid, clock)
    assert results(report)[-1] == ("ssh_signature", "fail")
    assert report.strength == "none"


def test_a_valid_token_is_strong_and_listed_for_revocation(engine, clock, world):
    tid = new_ticket(engine, clock, evidence=[("token", world["alice_token"])])
    report = verify(engine, tid, clock)
    assert results(report)[-1] == ("token", "pass")
    assert report.strength == "strong"
    assert len(report.exposed_token_ids) == 1
    with session_scope(engine) as s:
        assert world["alice_token"] not in str(latest_report(s, tid).to_dict())


def test_revoked_expired_and_unknown_tokens_fail(engine, clock, world):
    with session_scope(engine) as s:
        alice = make_user(s, "carol", clock=clock)
        revoked = issue_token(s, user=alice, name="old", clock=clock)
        revoke_token(s, user=alice, token_id=revoked.token.id, clock=clock)
        expired = issue_token(
            s, user=alice, name="short", expires_at=clock() - timedelta(days=1), clock=clock
        )
    tid = new_ticket(
        engine,
        clock,
        sender="carol@example.org",
        username="carol",
        evidence=[
            ("token", revoked.plaintext),
            ("token", expired.plaintext),
            ("token", "hf_" + "x" * 34),
        ],
    )
    report = verify(engine, tid, clock)
    reasons = [c.reason for c in report.checks if c.name == "token"]
    assert [c.result for c in report.checks if c.name == "token"] == ["fail"] * 3
    assert "revoked" in reasons[0] and "expired" in reasons[1] and "unknown" in reasons[2]
    assert report.strength == "none"


def test_evidence_of_another_account_is_flagged(engine, clock, world, keys):
    tid = new_ticket(
        engine,
        clock,
        evidence=[("token", world["bob_token"]), ("ssh_public_key", keys["bob"].public_line)],
    )
    report = verify(engine, tid, clock)
    assert results(report)[2:] == [("token", "fail"), ("ssh_public_key", "fail")]
    assert any("another account (bob)" in f for f in report.flags)
    assert report.recommendation == "deny"


def test_a_signature_by_another_accounts_key_is_flagged(engine, clock, world, keys):
    namespace = get_settings().sshsig_namespace
    tid = new_ticket(
        engine,
        clock,
        evidence=[("ssh_signature", lambda t: sign(keys["bob"], challenge_text(t), namespace))],
    )
    report = verify(engine, tid, clock)
    assert results(report)[-1] == ("ssh_signature", "fail")
    assert any("another account (bob)" in f for f in report.flags)


def test_a_sender_that_is_not_the_account_email_is_flagged(engine, clock, world):
    tid = new_ticket(
        engine, clock, sender="bob@example.org", evidence=[("token", world["alice_token"])]
    )
    report = verify(engine, tid, clock)
    assert ("sender_address", "fail") in results(report)
    assert report.strength == "strong"
    assert report.recommendation == "review"
    assert "Sender address is not the account's email on file." in report.flags
    assert any("belongs to another account (bob)" in f for f in report.flags)


def test_no_matching_account(engine, clock, world):
    tid = new_ticket(engine, clock, sender="stranger@example.net", username="nobody")
    report = verify(engine, tid, clock)
    assert results(report) == [("account", "fail")]
    assert report.user_id is None and report.strength == "none"
    assert report.recommendation == "request_more_information"


def test_the_sender_address_resolves_when_nothing_is_claimed(engine, clock, world):
    tid = new_ticket(engine, clock, sender="Alice@Example.org", username=None)
    report = verify(engine, tid, clock)
    assert report.username == "alice"
    assert "sender address" in report.checks[0].reason


def test_claims_naming_two_accounts_resolve_to_none(engine, clock, world):
    with session_scope(engine) as s:
        ticket = make_ticket(
            s,
            clock=clock,
            requester_email="alice@example.org",
            claimed_username="alice",
            claimed_email="bob@example.org",
        )
        tid = ticket.id
    report = verify(engine, tid, clock)
    assert report.user_id is None
    assert any("different accounts" in f for f in report.flags)


def test_an_unchanged_outcome_adds_no_report_row_but_new_evidence_does(engine, clock, world, keys):
    tid = new_ticket(engine, clock, evidence=[("ssh_public_key", keys["alice"].public_line)])
    verify(engine, tid, clock)
    clock.advance(minutes=5)
    verify(engine, tid, clock)
    with session_scope(engine) as s:
        add_evidence(s, s.get(Ticket, tid), "token", world["alice_token"], clock=clock)
    report = verify(engine, tid, clock)
    assert report.strength == "strong"
    with session_scope(engine) as s:
        count = s.exec(select(func.count()).select_from(VerificationReportRow)).one()
        assert count == 2
        assert s.get(Ticket, tid).evidence_strength == "strong"
