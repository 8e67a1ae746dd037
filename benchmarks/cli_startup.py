"""CLI start-up cost: wall time and peak memory (max RSS) of the commands cron, monitors and
operators run every minute, each run repeatedly as a fresh process on an empty database at
head: ``backoffice --help``, ``outbox send`` with nothing to send, ``health`` (the database,
an SMTP relay this script runs and a Maildir source to check), ``stats`` as JSON and for
Prometheus, and ``tickets list``. Prints median and best wall time, median CPU time and
median max RSS. The last row is the floor of any command that reads the database through the
ORM: importing Typer and SQLModel, reading the settings and opening the database, nothing
else (and leaving as the commands do, without a last garbage collection). The commands run
in turn, run after run, so a burst of load on the machine falls on all of them.

    python benchmarks/cli_startup.py [--runs 10] [--tree PATH] [--db URL]

``--tree`` measures another checkout of the project (e.g. an older commit unpacked with
``git archive COMMIT | tar -x -C /tmp/before``) with this interpreter, for before/after
figures taken under the same load. ``--db`` runs the commands against that database (e.g. an
empty PostgreSQL database, brought to head by the first run) instead of a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
CLI = ["-c", "from backoffice.cli import main; main()"]
FLOOR = """
import gc, typer, rich.console, sqlmodel
from core.store.engine import dispose_engines, get_engine
get_engine(None).connect().close()
dispose_engines()
gc.freeze()
"""
COMMANDS = {
    "backoffice --help": [*CLI, "--help"],
    "backoffice outbox send (nothing due)": [*CLI, "outbox", "send"],
    "backoffice health (db, relay, maildir)": [*CLI, "health"],
    "backoffice stats --format json": [*CLI, "stats", "--format", "json"],
    "backoffice stats --format prometheus": [*CLI, "stats", "--format", "prometheus"],
    "backoffice tickets list (empty)": [*CLI, "tickets", "list"],
    "floor: typer, sqlmodel, settings, connect": ["-c", FLOOR],
}


class AcceptAll:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@contextmanager
def smtp_relay() -> Iterator[int]:
    """A real SMTP server on a free port for ``health`` to greet (it sends nothing)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(AcceptAll(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def run_once(argv: list[str], env: dict[str, str], tree: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system: what the process itself cost, steadier than
    wall time on a busy machine) and max RSS (MB) of ``python ARGV`` as one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *argv],
        env={**env, "PYTHONPATH": str(tree)},
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--db", help="database URL with nothing due (default: a fresh SQLite file)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    with tempfile.TemporaryDirectory() as tmp, smtp_relay() as relay_port:
        maildir = Path(tmp, "Maildir")
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
        env["BACKOFFICE_DATA_DIR"] = tmp
        env["BACKOFFICE_DATABASE_URL"] = args.db or f"sqlite:///{tmp}/bench.db"
        env["BACKOFFICE_SMTP_PORT"] = str(relay_port)
        env["BACKOFFICE_MAILDIR_WATCH"] = str(maildir)
        run_once([*CLI, "outbox", "send"], env, tree)  # creates the database and brings it to head
        database = (args.db or "sqlite").partition(":")[0]
        print(f"{tree}: {args.runs} runs each, on {database}")
        print(
            f"{'command':<42} {'wall median':>11} {'wall best':>9} {'CPU median':>10}"
            f" {'max RSS MB':>10}"
        )
        figures: dict[str, list[tuple[float, float, float]]] = {label: [] for label in COMMANDS}
        for _ in range(args.runs):
            for label, argv in COMMANDS.items():
                figures[label].append(run_once(argv, env, tree))
        for label, runs in figures.items():
            times, cpu, rss = zip(*runs, strict=True)
            print(
                f"{label:<42} {statistics.median(times):>11.3f} {min(times):>9.3f}"
                f" {statistics.median(cpu):>10.3f} {statistics.median(rss):>10.1f}"
            )


if __name__ == "__main__":
    main()
