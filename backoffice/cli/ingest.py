"""``backoffice ingest``: turn recovery emails into tickets from files or an IMAP folder.

``ingest PATH...`` and ``ingest imap ...`` share one group: a first argument that is not a
subcommand name is taken as a path (``IngestGroup``), so a file literally named ``imap`` is
ingested with ``backoffice ingest paths imap``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from backoffice.cli.common import (
    DbOption,
    JsonOption,
    console,
    domain_errors,
    err_console,
    fail,
    literal,
    open_session,
    print_json,
    read_secret_from_stdin,
)
from backoffice.cli.running import LogFormatOption, supervise
from core.inbound import (
    IngestOutcome,
    IngestReport,
    default_parse_processes,
    ingest_messages,
    list_quarantined,
    reprocess_quarantined,
)
from core.inbound.sources import ImapConfig, ImapSource, count_messages, path_messages
from core.store.engine import get_engine


class IngestGroup(TyperGroup):
    """Routes ``ingest PATH...`` to the ``paths`` command and keeps ``ingest imap`` working."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["paths", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=IngestGroup,
    help="Ingest recovery emails: PATH... (Maildir, mbox, .eml, folders) or `imap`.",
    no_args_is_help=True,
)

PATHS_BATCH_SIZE = 500
"""Messages per transaction for mail on disk: larger batches amortize each commit (1,460
messages/s at 100, 1,790 at 500 in ``benchmarks/ingest_throughput.py``) and hold the
SQLite write lock for about a quarter of a second."""

BatchOption = Annotated[
    int, typer.Option("--batch-size", min=1, help="Messages per transaction (source marked after).")
]


@contextmanager
def _progress(total: int | None, enabled: bool) -> Iterator[Callable[[IngestOutcome], None]]:
    """A rich progress bar on a terminal; silent otherwise (or with --json)."""
    if not enabled or not console.is_terminal:
        yield lambda _outcome: None
        return
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=total, last="")
        yield lambda outcome: progress.update(task, advance=1, last=outcome.status)


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    console.print(literal(report.summary()), highlight=False)
    for error in report.source_errors:
        err_console.print(Text.assemble(("unreadable:", "yellow"), " ", literal(error)))


@app.command("paths")
@domain_errors
def ingest_paths(
    paths: Annotated[
        list[Path], typer.Argument(help="Maildir folders, mbox files, .eml files or folders.")
    ],
    as_json: JsonOption = False,
    batch_size: BatchOption = PATHS_BATCH_SIZE,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Processes that parse the next batch while the current one is written "
            "(default: 1 on a machine with 2 or more cores, unless the mail is known to fit "
            "in one batch; 0 parses in the writing process).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Ingest mail from disk. A Maildir's messages move from new/ to cur/ after commit."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise fail(f"No such file or folder: {', '.join(missing)}")
    report = IngestReport()
    engine = get_engine(db)
    # Counting reads every mbox once more: only for a progress bar. Unknown (None) picks
    # the parse process, which costs ~15 ms to start if the mail turns out to be little.
    total = count_messages(paths) if console.is_terminal and not as_json else None
    if workers is None:
        workers = default_parse_processes(total, batch_size)
    with _progress(total, not as_json) as progress:
        ingest_messages(
            engine,
            path_messages(paths, report.source_errors),
            batch_size=batch_size,
            report=report,
            progress=progress,
            parse_processes=workers,
        )
    _print_report(report, as_json)


@app.command("imap")
@domain_errors
def ingest_imap(
    host: Annotated[str, typer.Option(help="IMAP server host.")],
    user: Annotated[str, typer.Option(help="IMAP login.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Default 993 with --ssl, else 143.")] = None,
    folder: Annotated[str, typer.Option(help="Folder to read.")] = "INBOX",
    ssl: Annotated[bool, typer.Option("--ssl", help="IMAPS (TLS from the start).")] = False,
    starttls: Annotated[bool, typer.Option("--starttls", help="Upgrade with STARTTLS.")] = False,
    move_to: Annotated[
        str | None, typer.Option(help="Move handled mail here instead of flagging it \\Seen.")
    ] = None,
    watch: Annotated[
        float | None,
        typer.Option(
            "--watch",
            min=1,
            help="Keep polling every SECONDS; IMAP and database outages are retried with back-off.",
        ),
    ] = None,
    log_format: LogFormatOption = None,
    as_json: JsonOption = False,
    batch_size: BatchOption = 50,
    db: DbOption = None,
) -> None:
    """Ingest an IMAP folder: UID checkpoint per UIDVALIDITY, flagged after commit, never
    deleted. Without --ssl or --starttls the connection is plain text. With --watch, Ctrl-C
    or SIGTERM finishes the current batch, prints the summary and exits 0."""
    if ssl and starttls:
        raise fail("Choose one of --ssl and --starttls.")
    password = (
        read_secret_from_stdin("password")
        if password_stdin
        else typer.prompt("IMAP password", hide_input=True)
    )
    config = ImapConfig(
        host=host,
        port=port or (993 if ssl else 143),
        user=user,
        password=password,
        folder=folder,
        security="ssl" if ssl else "starttls" if starttls else "plain",
        move_to=move_to,
    )
    if watch is not None:
        from core.workers.services import ImapService

        watched: list[ImapService] = []

        def build(engine):
            watched.append(ImapService(engine, config, interval=watch, batch_size=batch_size))
            return watched

        supervise(build, db=db, log_format=log_format)
        _print_report(watched[0].report if watched else IngestReport(), as_json)
        return
    source = ImapSource(config, get_engine(db))
    report = IngestReport()
    with _progress(None, not as_json) as progress:
        source.run_once(batch_size=batch_size, report=report, progress=progress)
    _print_report(report, as_json)


@app.command("quarantined")
@domain_errors
def quarantined(
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List quarantined mail with the reason (raw bytes are kept)."""
    with open_session(db, readonly=True) as session:
        rows = [
            {
                "id": r.id,
                "received_at": r.received_at,
                "source": r.source,
                "from": r.from_addr,
                "subject": r.subject,
                "size": r.size,
                "reason": r.reason,
            }
            for r in list_quarantined(session, limit=limit)
        ]
    if as_json:
        print_json({"quarantined": rows})
        return
    for row in rows:
        console.print(
            literal(
                f"{row['id']}  {row['received_at']:%Y-%m-%d %H:%M}  {row['from'] or '-'}"
                f"  {row['subject'] or ''}  {row['reason']}"
            ),
            highlight=False,
        )


@app.command("reprocess")
@domain_errors
def reprocess(
    inbound_id: Annotated[int, typer.Argument(help="Id from `ingest quarantined`.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Run one quarantined message through the pipeline again (e.g. after raising the
    size limit)."""
    with open_session(db) as session:
        outcome = reprocess_quarantined(session, inbound_id)
    if as_json:
        print_json(vars(outcome))
        return
    ticket = f" (ticket #{outcome.ticket_id})" if outcome.ticket_id else ""
    console.print(literal(f"{outcome.status}{ticket}: {outcome.reason or ''}"), highlight=False)
