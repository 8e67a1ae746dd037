"""The shipped demo data builds a demo covering every evidence kind (real keys from
ssh-keygen, a real signature of the ticket's challenge, tokens issued by the core)."""

from __future__ import annotations

import shutil

from backoffice.demo_data.build import build_demo
from core.store import session_scope
from core.store.engine import make_engine
from core.store.tables import Ticket
from core.verification import compute_report
from tests.conftest import require


def test_demo_covers_every_evidence_kind(sqlite_url):
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen is not installed")
    engine = make_engine(sqlite_url)
    world = build_demo(engine, staff_password="demo staff password")
    assert world.ingested == {
        "01-alice-request.eml": "ticket",
        "02-alice-signed-reply.eml": "threaded",
        "03-bob-revoked-token.eml": "ticket",
        "04-carol-public-key.eml": "ticket",
        "05-dave-other-key.eml": "ticket",
        "06-erin-token.eml": "ticket",
        "07-auto-reply.eml": "auto",
        "08-bounce.eml": "bounce",
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
    assert results["carol"] == (
        "weak",
        [("sender_address", "pass"), ("ssh_public_key", "weak")],
        [],
    )
    assert ("ssh_public_key", "fail") in results["dave"][1]
    assert results["dave"][2] == ["Evidence points to another account (erin)."]
    assert results["erin"][0] == "strong" and ("sender_address", "fail") in results["erin"][1]
    assert world.staff.role == "admin" and len(world.staff.secret) == 32
    engine.dispose()
