"""The ``backoffice`` command. Each command group lives in its own module."""

from __future__ import annotations

import typer

from backoffice.cli import accounts, portal, twofactor

app = typer.Typer(
    name="backoffice",
    help="Two-factor authentication for the Hub and its support back office.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(accounts.app, name="accounts")
app.add_typer(twofactor.app, name="2fa")
twofactor.register_signin(app)
app.command("portal")(portal.portal)


def main() -> None:
    app()
