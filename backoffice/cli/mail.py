"""``backoffice mail``: preview the email templates and run the local capture server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backoffice.cli.common import (
    console,
    domain_errors,
    require_free_port,
    wait_until_interrupted,
)

app = typer.Typer(help="Email templates and the local mail capture.", no_args_is_help=True)


@app.command("list")
def list_templates() -> None:
    """The email templates."""
    from core.mail.render import template_names

    for name in template_names():
        typer.echo(name)


@app.command("preview")
@domain_errors
def preview(
    name: Annotated[str, typer.Argument(help="Template name (see 'mail list').")],
    html: Annotated[bool, typer.Option("--html", help="Print the HTML body.")] = False,
) -> None:
    """Render an email with sample data."""
    from core.mail.render import render_email
    from core.mail.samples import sample_context

    rendered = render_email(name, sample_context(name))
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text, nl=False)


@app.command("capture")
def capture(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 1025,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    directory: Annotated[
        Path, typer.Option("--dir", help="Maildir that keeps every message received.")
    ] = Path("data/mail-capture"),
) -> None:
    """Run a local SMTP server that stores all mail it receives, until interrupted."""
    from core.mail.capture import start_capture

    require_free_port(host, port, "mail capture")
    controller = start_capture(directory, host=host, port=port)
    console.print(f"Capturing mail on {host}:{port} into {directory} (Ctrl-C to stop)")
    wait_until_interrupted(controller.stop)
