"""``backoffice stats``: the figures a monitor scrapes, as JSON or in Prometheus' text
format (write it to a node-exporter textfile directory from cron, or serve the file)."""

from __future__ import annotations

from enum import StrEnum
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
        typer.echo(snapshot_as_prometheus(snapshot), nl=False)
    else:
        typer.echo(json.dumps(snapshot_as_dict(snapshot), indent=2))
