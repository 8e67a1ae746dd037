"""``backoffice health``: exit 0 when the database, the SMTP relay and the enabled mail
sources answer and no queue is stuck; otherwise one line per problem and exit 1, for a
monitor, a load balancer's check script or a human."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, JsonOption, console, parse_duration, print_json


def health(
    outbox_max_age: Annotated[
        timedelta,
        typer.Option(
            "--outbox-max-age",
            parser=parse_duration,
            metavar="DURATION",
            help="A queued email older than this is a problem.",
        ),
    ] = "15m",
    quarantine_max_age: Annotated[
        timedelta,
        typer.Option(
            "--quarantine-max-age",
            parser=parse_duration,
            metavar="DURATION",
            help="A quarantined message older than this is a problem (someone should look).",
        ),
    ] = "24h",
    worker_max_silence: Annotated[
        timedelta,
        typer.Option(
            "--worker-max-silence",
            parser=parse_duration,
            metavar="DURATION",
            help="A running worker without a heartbeat for this long counts as dead.",
        ),
    ] = "60s",
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each server.")
    ] = 5.0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Check the database, the SMTP relay, the enabled mail sources, the outbox, the
    quarantine and the workers; exit 1 with one line per problem."""
    from core.operations.health import Thresholds, check_health

    report = check_health(
        db_url=db,
        thresholds=Thresholds(
            outbox_max_age=parse_duration(outbox_max_age),
            quarantine_max_age=parse_duration(quarantine_max_age),
            worker_max_silence=parse_duration(worker_max_silence),
        ),
        timeout=timeout,
    )
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        console.print(
            "ok: " + ", ".join(check.name for check in report.checks),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    else:
        for problem in report.problems:
            console.print(
                f"{problem.name}: {problem.detail}", highlight=False, markup=False, soft_wrap=True
            )
    if not report.ok:
        raise typer.Exit(1)
