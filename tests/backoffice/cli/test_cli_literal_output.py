"""Mail-controlled text is printed literally by every CLI command (issue #10 item 7): Rich
markup in a subject, a name or a flag is shown as typed, never rendered as a hyperlink or
style, and terminal escape sequences are defused. Also: ``--as`` must name an active
staff member who may decide (item 9)."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from backoffice.cli import app
from core.inbound.pipeline import ingest_bytes
from core.store import session_scope
from core.store.tables import AuditEvent, InboundMessage, Ticket
from core.twofactor import is_enabled
from tests.support.mail import recovery_email
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff

LINK = "[link=http://evil.example/]Approved[/link]"
ESCAPE = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def ticket_id(engine, clock):
    with session_scope(engine) as s:
        ticket = make_ticket(
            s,
            clock=clock,
            requester_email="eve@example.org",
            claimed_username="[bold]root[/bold]",
            subject=f"{LINK} {ESCAPE}",
            requester_name="[red]Support Team[/red]",
        )
        ticket.flagged = True
        ticket.flag_reason = f"Refers to {LINK}"
        return ticket.id


def test_ticket_list_and_show_print_markup_literally(engine, ticket_id):
    listed = run("tickets", "list")  # cells are cut to the terminal width: the tag shows
    assert listed.exit_code == 0 and "[link=" in listed.output and "\x1b" not in listed.output
    shown = run("tickets", "show", ticket_id)
    assert shown.exit_code == 0, shown.output
    assert LINK in shown.output and f"Refers to {LINK}" in shown.output
    assert "\x1b" not in shown.output and "\ufffd]8;;" in shown.output
    assert "[red]Support Team[/red]" in shown.output and "[bold]root[/bold]" in shown.output


def test_verify_and_decision_output_print_markup_literally(engine, clock, ticket_id):
    verified = run("tickets", "verify", ticket_id)
    assert verified.exit_code == 0, verified.output
    assert "[bold]root[/bold]" in verified.output  # the claim, named in the flags
    preview = run("tickets", "preview", ticket_id, "denied", "--reason", "no")
    assert LINK in preview.output and "\x1b" not in preview.output


def test_quarantine_listing_and_reprocess_print_markup_literally(engine, clock):
    raw = recovery_email(subject=LINK).replace(b"From: Alice", b"X-From: Alice", 1)
    with session_scope(engine) as s:
        held = ingest_bytes(s, raw, source="test", clock=clock)
        row = s.get(InboundMessage, held.inbound_id)
        row.subject, row.reason = LINK, f"parser failed: {LINK} {ESCAPE}"
    listing = run("ingest", "quarantined")
    assert listing.exit_code == 0, listing.output
    assert listing.output.count(LINK) == 2 and "\x1b" not in listing.output
    again = run("ingest", "reprocess", held.inbound_id)
    assert again.exit_code == 0 and "\x1b" not in again.output


@pytest.mark.parametrize(
    ("staff", "role", "active", "message"),
    [
        ("nobody", None, True, "is not a staff member"),
        ("gone", "agent", False, "deactivated"),
        ("otto", "ops", True, "may not decide"),
    ],
)
def test_approve_as_someone_who_may_not_decide_is_refused(
    engine, clock, staff, role, active, message
):
    with session_scope(engine) as s:
        if role:
            add_staff(s, staff, role=role, active=active, clock=clock)
        alice = make_user(s, "alice", clock=clock)
        enable_two_factor(s, alice, clock=clock)
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "fingerprint", "SHA256:" + "x" * 43, clock=clock)
        tid = ticket.id
    result = run("tickets", "approve", tid, "--as", staff, "--reason", "video call")
    assert result.exit_code == 1 and message in result.output
    with session_scope(engine) as s:
        assert is_enabled(s, s.get(type(alice), alice.id))
        assert s.get(Ticket, tid).status == "open"
        assert s.exec(select(AuditEvent).where(AuditEvent.actor == f"staff:{staff}")).all() == []
