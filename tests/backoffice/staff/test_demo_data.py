"""The shipped demo data builds a demo covering every evidence kind (real keys from
ssh-keygen, a real signature of the ticket's challenge, tokens issued by the core)."""

from __future__ import annotations

import shutil

from backoffice.cli.demo import DEMO_AUTHSERV_ID
from backoffice.demo_data.build import build_demo
from core.settings import get_settings
from core.store import session_scope
from core.store.engine import make_engine
from core.store.tables import Ticket
from core.verification import compute_report
from tests.conftest import require


def test_demo_covers_every_evidence_kind(sqlite_url, monkeypatch):
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen is not installed")
    monkeypatch.setenv("BACKOFFICE_TRUSTED_AUTHSERV_IDS", DEMO_AUTHSERV_ID)  # as the demo does
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    world = build_demo(engine, staff_password="demo staff password")
    assert world.ingested == {
        "01-alice-request.eml": "opened ticket #1",
        "02-alice-signed-reply.eml": "joined ticket #1",
        "03-bob-revoked-token.eml": "opened ticket #2",
        "04-carol-public-key.eml": "opened ticket #3",
        "05-dave-other-key.eml": "opened ticket #4",
        "06-erin-token.eml": "opened ticket #5",
        "07-auto-reply.eml": "an auto-reply: recorded, never answered",
        "08-bounce.eml": "a bounce: recorded, never answered",
        "09-carol-forged-reply.eml": "joined ticket #3",
    }
    results = {}
    with session_scope(engine, readonly=True) as s:
        for name, number in world.tickets.items():
            report = compute_report(s, s.get(Ticket, number))
            results[name] = (
                report.strength,
                sorted((c.name, c.result) for c in report.checks if c.name != "account"),
                report.flags,
            )
    assert results["alice"][0] == "strong" and ("ssh_signature", "pass") in results["alice"][1]
    assert results["bob"][0] == "none" and ("token", "fail") in results["bob"][1]
    forged = "Reply 1 failed DMARC at mx.support.demo: its From address may be forged."
    assert results["carol"] == (
        "weak",
        [("sender_address", "pass"), ("ssh_public_key", "weak")],
        [forged],
    )
    with session_scope(engine, readonly=True) as s:
        carol = s.get(Ticket, world.tickets["carol"])
        assert carol.flagged and carol.flag_reason == forged.replace("Reply 1", "A reply")
    assert not any(
        "DMARC" in flag
        for name, (_, _, flags) in results.items()
        if name != "carol"
        for flag in flags
    ), "every other demo email passed"
    assert ("ssh_public_key", "fail") in results["dave"][1]
    assert results["dave"][2] == ["Evidence points to another account (erin)."]
    assert results["erin"][0] == "strong" and ("sender_address", "fail") in results["erin"][1]
    assert world.staff.role == "admin" and len(world.staff.secret) == 32
    engine.dispose()


def test_account_history_predates_the_tickets(sqlite_url):
    """Issue #12 item 8: 2FA, keys and tokens were set up before anyone wrote to support."""
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen is not installed")
    from sqlmodel import func, select

    from core.store.tables import AuditEvent

    engine = make_engine(sqlite_url)
    build_demo(engine, staff_password="demo staff password")
    with session_scope(engine, readonly=True) as s:
        first_ticket = s.exec(select(func.min(Ticket.created_at))).one()
        history = s.exec(
            select(func.max(AuditEvent.at)).where(
                AuditEvent.action.in_(("2fa.enabled", "ssh_key.added", "token.issued"))
            )
        ).one()
    assert history < first_ticket
    engine.dispose()
