"""The commands monitors and scripts run every minute (``health``, ``stats``, ``tickets list``)
start with what they read: the table modules their queries name (and those their foreign keys
point at), no mail sending, templates, servers, UI or migrations. The loaded modules are read
from ``sys.modules`` as the process exits, because the ORM loads table modules through
``importlib`` where ``-X importtime`` does not see them. Wall time is measured by
``benchmarks/cli_startup.py``, not here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.store.engine import session_scope
from tests.backoffice.cli.test_startup_imports import SCHEMA_MACHINERY, SENDING, SERVER_AND_UI
from tests.support.recovery_tickets import make_ticket
from tests.support.smtp_sink import SmtpSink

HEAVY = SERVER_AND_UI | SCHEMA_MACHINERY | SENDING
TICKETS_AND_WHAT_THEY_REFER_TO = {"tickets", "accounts", "inbound", "outbox"}

RUN_AND_LIST_MODULES = """
import atexit, os, sys
atexit.register(
    lambda: open(os.environ["STARTUP_TEST_MODULES"], "w").write("\\n".join(sorted(sys.modules)))
)
from backoffice.cli import main
main()
"""


def run_listing_modules(
    tmp_path, *args: str, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``backoffice ARGS`` in a fresh interpreter, and every module it had loaded at exit."""
    listing = tmp_path / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        env={**os.environ, **env, "STARTUP_TEST_MODULES": str(listing)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, set(listing.read_text().split())


def table_modules(loaded: set[str]) -> set[str]:
    prefix = "core.store.tables."
    return {m.removeprefix(prefix) for m in loaded if m.startswith(prefix)}


def test_tickets_list_builds_only_the_tables_it_reads(tmp_path, engine, db_url, clock):
    with session_scope(engine) as session:
        make_ticket(session, clock=clock, requester_email="alice@example.org", subject="Lost it")
    result, loaded = run_listing_modules(
        tmp_path, "tickets", "list", env={"BACKOFFICE_DATABASE_URL": db_url}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Lost it" in result.stdout
    assert table_modules(loaded) == TICKETS_AND_WHAT_THEY_REFER_TO
    assert not loaded & HEAVY, loaded & HEAVY
    assert not {m for m in loaded if m.startswith("core.stats")}
    assert "core.tickets.challenge" not in loaded


def test_health_checks_everything_without_the_ops_figures(tmp_path, db_url):
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    relay = SmtpSink().start()
    try:
        env = {
            "BACKOFFICE_DATABASE_URL": db_url,
            "BACKOFFICE_SMTP_PORT": str(relay.port),
            "BACKOFFICE_MAILDIR_WATCH": str(maildir),
        }
        result, loaded = run_listing_modules(tmp_path, "health", env=env)
    finally:
        relay.stop()
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert result.stdout.strip() == "ok: database, outbox, quarantine, smtp, maildir"
    assert table_modules(loaded) == TICKETS_AND_WHAT_THEY_REFER_TO | {"workers"}
    assert not loaded & HEAVY, loaded & HEAVY
    assert not loaded & {"core.stats.figures", "core.stats.report", "core.stats.snapshot"}


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [("json", '"by_status"'), ("prometheus", "# TYPE backoffice_")],
)
def test_stats_loads_the_tables_of_its_figures_and_no_sending_or_ui(
    tmp_path, db_url, output_format, expected
):
    result, loaded = run_listing_modules(
        tmp_path, "stats", "--format", output_format, env={"BACKOFFICE_DATABASE_URL": db_url}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout
    assert table_modules(loaded) == TICKETS_AND_WHAT_THEY_REFER_TO | {
        "stats",
        "twofactor",
        "workers",
    }
    assert not loaded & HEAVY, loaded & HEAVY
    assert "core.stats.report" not in loaded


def test_a_command_leaves_its_heap_uncollected_and_its_database_closed(tmp_path, sqlite_url):
    """The interpreter's last collection is skipped (the heap is frozen when the command ends),
    yet the database is closed as before: SQLite folds and removes its write-ahead log when the
    last connection closes, and leaves it behind when a connection is only dropped."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count(), file=sys.stderr))\n"
        "from backoffice.cli import main\nmain()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "tickets", "list"],
        env={**os.environ, "BACKOFFICE_DATABASE_URL": sqlite_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    frozen = int(result.stderr.rpartition("frozen:")[2])
    assert frozen > 10_000  # the classes and modules of every library loaded
    database = sqlite_url.removeprefix("sqlite:///")
    assert os.path.exists(database)
    assert not os.path.exists(database + "-wal")
