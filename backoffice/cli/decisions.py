"""``backoffice tickets verify|approve|deny|request-info|preview``: the decision commands,
added to the ``tickets`` group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from backoffice.cli import tickets
from backoffice.cli.common import (
    DbOption,
    JsonOption,
    console,
    domain_errors,
    literal,
    open_session,
    print_json,
)

if TYPE_CHECKING:  # the services are imported by the command that runs, not by the group
    from core.decisions import Decision
    from core.verification import VerificationReport

TicketArg = Annotated[int, typer.Argument(help="Ticket number.")]
StaffOption = Annotated[
    str,
    typer.Option("--as", help="The staff member deciding: must exist, be active and may decide."),
]
VersionOption = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse if the ticket changed since this version."),
]
COLORS = {"pass": "green", "weak": "yellow", "fail": "red"}


def _print_report(report: VerificationReport) -> None:
    table = Table("check", "result", "reason")
    for check in report.checks:
        color = COLORS[check.result]
        table.add_row(check.name, f"[{color}]{check.result}[/]", literal(check.reason))
    console.print(table)
    for flag in report.flags:
        console.print(Text.assemble(("flag:", "red"), " ", literal(flag)), highlight=False)
    console.print(
        Text.assemble(
            "strength: ",
            (report.strength, "bold"),
            "  recommendation: ",
            (report.recommendation, "bold"),
            " — ",
            literal(report.summary),
        ),
        highlight=False,
    )


def _print_decision(decision: Decision, as_json: bool) -> None:
    if as_json:
        print_json(asdict(decision))
        return
    extra = (
        f", {len(decision.revoked_token_ids)} token(s) revoked"
        if decision.revoked_token_ids
        else ""
    )
    console.print(
        literal(
            f"Ticket #{decision.ticket_id} is now {decision.status} (by {decision.staff}"
            f"{extra}, {len(decision.email_ids)} email(s) queued)."
        ),
        highlight=False,
    )
    if decision.status == "awaiting_confirmation":
        console.print(
            "Nothing changed yet: a different staff member must confirm with `tickets approve`.",
            highlight=False,
        )
    if decision.first_approval_by and decision.status == "approved":
        console.print(literal(f"First approval by {decision.first_approval_by}."), highlight=False)
    if decision.reset_due_at is not None:
        console.print(
            f"The 2FA reset takes effect at {decision.reset_due_at:%Y-%m-%d %H:%M} UTC unless "
            "the owner cancels it with the emailed link.",
            highlight=False,
        )


def _decide(service: Callable[..., Decision], db: str | None, as_json: bool, **kwargs) -> None:
    with open_session(db) as session:
        decision = service(session, **kwargs)
    _print_decision(decision, as_json)


@domain_errors
def verify(ticket_id: TicketArg, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Check the ticket's evidence against the account and store the report."""
    from core.tickets.reading import get_ticket
    from core.verification import verify_ticket

    with open_session(db) as session:
        report = verify_ticket(session, get_ticket(session, ticket_id))
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


@domain_errors
def approve(
    ticket_id: TicketArg,
    staff: StaffOption,
    reason: Annotated[
        str | None, typer.Option(help="Required to approve on weak evidence (recorded).")
    ] = None,
    expected_version: VersionOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Approve: reset the account's 2FA (after the cooling-off, BACKOFFICE_RESET_COOLING_OFF_HOURS),
    revoke exposed tokens, queue the emails; weak evidence or a high-value account waits for
    a second staff member's approval."""
    from core.decisions import approve_ticket

    _decide(
        approve_ticket,
        db,
        as_json,
        ticket_id=ticket_id,
        staff=staff,
        reason=reason,
        expected_version=expected_version,
    )


@domain_errors
def deny(
    ticket_id: TicketArg,
    staff: StaffOption,
    reason: Annotated[str, typer.Option(help="Why; it is sent to the requester.")],
    expected_version: VersionOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Deny with a reason; the requester is told how to follow up."""
    from core.decisions import deny_ticket

    _decide(
        deny_ticket,
        db,
        as_json,
        ticket_id=ticket_id,
        staff=staff,
        reason=reason,
        expected_version=expected_version,
    )


@domain_errors
def request_info(
    ticket_id: TicketArg,
    staff: StaffOption,
    message: Annotated[str, typer.Option(help="What to ask the requester for.")],
    expected_version: VersionOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Ask the requester for more information; the ticket waits for their reply."""
    from core.decisions import request_more_information

    _decide(
        request_more_information,
        db,
        as_json,
        ticket_id=ticket_id,
        staff=staff,
        message=message,
        expected_version=expected_version,
    )


@domain_errors
def preview(
    ticket_id: TicketArg,
    kind: Annotated[
        str, typer.Argument(help="A decision email's name (approved, denied, ...; see the error).")
    ],
    reason: Annotated[
        str | None, typer.Option(help="The denial reason or the message to the requester.")
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML body.")] = False,
    db: DbOption = None,
) -> None:
    """Show the email a decision would send, without sending it."""
    from core.decisions import preview_decision_email

    with open_session(db, readonly=True) as session:
        rendered = preview_decision_email(session, ticket_id=ticket_id, kind=kind, reason=reason)
    typer.echo(literal(f"Subject: {rendered.subject}\n").plain)
    typer.echo(literal(rendered.html if html else rendered.text).plain, nl=False)


def register(app: typer.Typer = tickets.app) -> None:
    """Add the decision commands to the ``tickets`` group."""
    app.command("verify")(verify)
    app.command("approve")(approve)
    app.command("deny")(deny)
    app.command("request-info")(request_info)
    app.command("preview")(preview)
