"""``backoffice retention``: remove the raw mail (and with it the attachments) of tickets
decided long enough ago; tickets, decisions and the audit trail stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, JsonOption, console, parse_duration, print_json


def retention(
    older_than: Annotated[
        timedelta,
        typer.Option(
            "--older-than",
            parser=parse_duration,
            metavar="DURATION",
            help="Remove raw mail of tickets decided longer ago than this (e.g. 180d).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be removed.")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Empty the raw bytes of inbound mail whose ticket was decided before now minus
    --older-than (and of unattached auto-replies, bounces and duplicates that old);
    quarantined mail is kept. Each batch is audited."""
    from core.operations.retention import remove_raw_mail
    from core.store.engine import get_engine

    report = remove_raw_mail(
        get_engine(db), older_than=parse_duration(older_than), dry_run=dry_run, actor="cli"
    )
    if as_json:
        print_json(
            {
                "dry_run": report.dry_run,
                "cutoff": report.cutoff.isoformat(),
                "messages": report.messages,
                "bytes": report.bytes,
                "tickets": report.tickets,
            }
        )
        return
    verb = "Would remove" if report.dry_run else "Removed"
    console.print(
        f"{verb} the raw mail of {report.messages} message(s), {report.bytes:,} bytes, "
        f"from {report.tickets} ticket(s) decided before {report.cutoff:%Y-%m-%d %H:%M} UTC.",
        highlight=False,
    )
