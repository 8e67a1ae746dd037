"""``backoffice tickets``: list and read recovery tickets, print a ticket's challenge.

Other modules add their commands (approve, deny, ...) to this same ``app``. Each command
imports the services and the Rich pieces it uses when it runs: loading this group for
``tickets list`` (run every minute by scripts) builds only the tables it reads."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import (
    DbOption,
    JsonOption,
    console,
    domain_errors,
    literal,
    open_session,
    print_json,
)

app = typer.Typer(help="Recovery tickets.", no_args_is_help=True)


@app.command("list")
@domain_errors
def list_command(
    status: Annotated[str | None, typer.Option(help="Only tickets in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 200,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List tickets, newest first."""
    from rich.table import Table

    from core.tickets.reading import list_tickets, ticket_summary

    with open_session(db, readonly=True) as session:
        tickets = list_tickets(session, status=status, limit=limit)
    if as_json:
        print_json({"tickets": [ticket_summary(t) for t in tickets]})
        return
    table = Table("#", "status", "requester", "claimed", "subject", "created")
    for t in tickets:
        flag = " [red]flagged[/]" if t.flagged else ""
        table.add_row(
            str(t.id),
            t.status + flag,
            literal(t.requester_email),
            literal(t.claimed_username or t.claimed_email or ""),
            literal(t.subject[:60]),
            f"{t.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("show")
@domain_errors
def show(
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """A ticket, its messages as plain text and the evidence found (tokens masked)."""
    from rich.text import Text

    from core.tickets.reading import detail_as_dict, ticket_detail

    with open_session(db, readonly=True) as session:
        detail = ticket_detail(session, ticket_id)
    if as_json:
        print_json(detail_as_dict(detail))
        return
    t = detail.ticket
    console.print(
        Text.assemble((f"Ticket #{t.id}", "bold"), f" [{t.status}] ", literal(t.subject)),
        highlight=False,
    )
    console.print(
        Text.assemble("requester: ", literal(f"{t.requester_name} <{t.requester_email}>")),
        highlight=False,
    )
    console.print(
        Text.assemble(
            "claimed: ",
            literal(f"username={t.claimed_username or '-'} email={t.claimed_email or '-'}"),
        ),
        highlight=False,
    )
    if t.flagged:
        console.print(Text.assemble(("flagged:", "red"), " ", literal(t.flag_reason)))
    console.print("\n[bold]Evidence[/]")
    for e in detail.evidence:
        extra = f" ({e.fingerprint})" if e.fingerprint and e.fingerprint != e.value else ""
        console.print(literal(f"- {e.kind}: {e.value.strip()}{extra}"), highlight=False)
    for m in detail.messages:
        arrow = "from" if m.direction == "in" else "to requester, from"
        console.rule(literal(f"{m.created_at:%Y-%m-%d %H:%M} {arrow} {m.from_addr}"))
        console.print(literal(f"Subject: {m.subject}"), highlight=False)
        for a in m.attachments:
            console.print(
                literal(
                    f"[attachment: {a.get('filename') or '(unnamed)'} {a.get('content_type')},"
                    f" {a.get('size')} bytes]"
                ),
                highlight=False,
            )
        console.print(literal(m.body_text), highlight=False)


@app.command("challenge")
@domain_errors
def challenge(
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    db: DbOption = None,
) -> None:
    """Print the exact challenge text to save as challenge.txt and sign (stdout), and the
    signing command (stderr)."""
    from core.tickets.challenge import challenge_text, signing_command
    from core.tickets.reading import get_ticket

    with open_session(db, readonly=True) as session:
        ticket = get_ticket(session, ticket_id)
    typer.echo(challenge_text(ticket), nl=False)
    typer.echo(f"# sign with: {signing_command()}", err=True)
