"""``backoffice stats``: the figures a monitor scrapes, as JSON or in Prometheus' text
format (write it to a node-exporter textfile directory from cron, or serve the file)."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, open_session


class StatsFormat(StrEnum):
    JSON = "json"
    PROMETHEUS = "prometheus"


def stats(
    output_format: Annotated[
        StatsFormat, typer.Option("--format", help="json, or Prometheus text exposition.")
    ] = StatsFormat.JSON,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Write to this file atomically (a scraper never reads half of it) instead "
            "of standard output.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Ticket volume, backlog by status and age, times to first response and decision,
    outbox, quarantine, lockouts and worker heartbeats, now."""
    import json

    from core.stats.export import snapshot_as_dict, snapshot_as_prometheus
    from core.stats.snapshot import stats_snapshot

    with open_session(db, readonly=True) as session:
        snapshot = stats_snapshot(session)
    if output_format is StatsFormat.PROMETHEUS:
        text = snapshot_as_prometheus(snapshot)
    else:
        text = json.dumps(snapshot_as_dict(snapshot), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    partial = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, output)
