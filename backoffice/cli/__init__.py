"""The ``backoffice`` command. Each command group lives in its own module, imported only
when that command runs (``backoffice.cli.root``); the short help shown by ``--help`` lives
here so that listing the commands imports none of them."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.root import LazyRootGroup, Subcommand, leave_quickly


def _add_decision_commands() -> None:
    from backoffice.cli import decisions

    decisions.register()


LazyRootGroup.registry = {
    "accounts": Subcommand(
        "Hub accounts, their SSH keys and access tokens.", "backoffice.cli.accounts:app"
    ),
    "2fa": Subcommand("Two-factor authentication for an account.", "backoffice.cli.twofactor:app"),
    "signin": Subcommand(
        "Sign in; exits 0 only when the sign-in is complete.", "backoffice.cli.twofactor:signin"
    ),
    "portal": Subcommand(
        "Serve the account portal: sign-in, Settings → Authentication, and recovery help.",
        "backoffice.cli.portal:portal",
    ),
    "ingest": Subcommand(
        "Ingest recovery emails: PATH... (Maildir, mbox, .eml, folders) or `imap`.",
        "backoffice.cli.ingest:app",
    ),
    "smtpd": Subcommand(
        "Run the SMTP receiver: 250 only after the commit, 451 if storing failed.",
        "backoffice.cli.smtpd:smtpd",
    ),
    "sshd": Subcommand(
        "Serve recovery over SSH: a registered key and the password give new recovery codes.",
        "backoffice.cli.sshd:sshd",
    ),
    "tickets": Subcommand(
        "Recovery tickets: list, read, verify and decide.",
        "backoffice.cli.tickets:app",
        prepare=_add_decision_commands,
    ),
    "mail": Subcommand("Email templates and the local mail capture.", "backoffice.cli.mail:app"),
    "outbox": Subcommand("The outgoing mail queue.", "backoffice.cli.outbox:app"),
    "resets": Subcommand(
        "Apply approved 2FA resets whose cooling-off has ended (`resets run`).",
        "backoffice.cli.resets:app",
    ),
    "worker": Subcommand(
        "Run the outbox sender and every enabled mail source in one long-running process.",
        "backoffice.cli.worker:worker",
    ),
    "health": Subcommand(
        "Exit 0 when the database, SMTP relay and mail sources answer and no queue is stuck.",
        "backoffice.cli.health:health",
    ),
    "stats": Subcommand(
        "Ticket, outbox, quarantine, lockout and worker figures as JSON or for Prometheus.",
        "backoffice.cli.stats:stats",
    ),
    "migrate": Subcommand(
        "Upgrade the schema to the newest migration (--check: only say whether it is).",
        "backoffice.cli.migrate:migrate",
    ),
    "retention": Subcommand(
        "Remove raw mail of tickets decided long ago; tickets, decisions and audit stay.",
        "backoffice.cli.retention:retention",
    ),
    "backup": Subcommand(
        "Write a consistent copy of the database (VACUUM INTO or pg_dump) while it runs.",
        "backoffice.cli.backup:backup",
    ),
    "restore": Subcommand(
        "Load a backup into a new SQLite file or an empty PostgreSQL database.",
        "backoffice.cli.backup:restore",
    ),
    "staff": Subcommand(
        "Staff accounts of the back office (password + TOTP, with a role).",
        "backoffice.cli.staff:app",
    ),
    "serve": Subcommand(
        "Serve the staff back office against the configured database.",
        "backoffice.cli.staff:serve",
    ),
    "demo": Subcommand(
        "Build a fresh demo (accounts, staff, an inbox of recovery emails) and serve it all.",
        "backoffice.cli.demo:demo",
    ),
}

app = typer.Typer(
    name="backoffice",
    cls=LazyRootGroup,
    help="Two-factor authentication for the Hub and its support back office.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="BACKOFFICE_DEBUG",
            help="Show the full traceback of an unexpected error instead of one line.",
        ),
    ] = False,
) -> None:
    """Two-factor authentication for the Hub and its support back office."""
    ctx.meta["backoffice.debug"] = debug


def main() -> None:
    try:
        app()
    finally:
        leave_quickly()
