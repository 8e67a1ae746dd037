"""The ``backoffice`` command. Each command group lives in its own module."""

from __future__ import annotations

import typer

from backoffice.cli import (
    accounts,
    decisions,
    demo,
    ingest,
    mail,
    outbox,
    portal,
    smtpd,
    staff,
    tickets,
    twofactor,
)

app = typer.Typer(
    name="backoffice",
    help="Two-factor authentication for the Hub and its support back office.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.add_typer(accounts.app, name="accounts")
app.add_typer(twofactor.app, name="2fa")
twofactor.register_signin(app)
app.command("portal")(portal.portal)

app.add_typer(ingest.app, name="ingest")
app.command("smtpd")(smtpd.smtpd)
app.add_typer(tickets.app, name="tickets")
decisions.register()
app.add_typer(mail.app, name="mail")
app.add_typer(outbox.app, name="outbox")
app.add_typer(staff.app, name="staff")
app.command("serve")(staff.serve)
app.command("demo")(demo.demo)


def main() -> None:
    app()
