"""Server-side cost of the staff app's Queue and Ops pages with 100 and with 1,000,000
tickets, in the same run, on SQLite and (with ``--pg URL``) on PostgreSQL (issues: the
staff back office; a fleet on PostgreSQL).

For each database and size it generates the same tickets from one seeded generator (~0.5%
open, the rest decided over three years, one evidence row and one verification report per
ticket, a few flagged): SQLite by ``executemany`` with the summary triggers on, PostgreSQL
by ``COPY`` into a fresh database (dropped at the end unless ``--keep``) with triggers off,
then the Ops summaries computed by migration 0003's own backfill statements and ANALYZE.
It prints the median time of the queries each page runs (the queue's default view, a
search, a huge status, the strength, recommendation and flag filters; the whole ops report
for the last 30 days) and of an ``AppTest`` rerun of each page (signed in, after a warm run:
the server-side cost of one click). Target: large <= 1.5x small, and under one second.

    python benchmarks/ui_pages.py [--large 1000000] [--rounds 15] [--keep DIR]
        [--pg postgresql+psycopg://postgres@127.0.0.1:54329/postgres] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

SPAN_DAYS = 3 * 365
FMT = "%Y-%m-%d %H:%M:%S.%f"
EVIDENCE_KINDS = ("ssh_public_key", "fingerprint", "token", "ssh_signature")
RECOMMENDATION = {"strong": "approve", "weak": "review", "none": "request_more_information"}
FLAG = "sender is not the account's email"

TICKET_COLUMNS = (
    "id, subject, requester_email, requester_name, claimed_username, user_id, status, "
    "flagged, flag_reason, evidence_strength, challenge_nonce, challenge_expires_at, "
    "created_at, updated_at, first_response_at, decided_at, version"
)
EVIDENCE_COLUMNS = "ticket_id, kind, value, created_at"
REPORT_COLUMNS = "ticket_id, computed_at, user_id, strength, recommendation, report"
USER_COLUMNS = "id, username, email, password_hash, created_at"
STAFF_COLUMNS = "user_id, role, active, created_at, created_by"


@dataclass(frozen=True)
class Fleet:
    """``count`` tickets from one seed, as plain row tuples (datetimes aware, UTC) that each
    database's writer formats its own way, so both databases hold the same tickets."""

    count: int
    now: datetime
    seed: int = 7

    @property
    def users(self) -> int:
        return max(10, self.count // 100)

    def user_rows(self) -> Iterator[tuple]:
        for i in range(1, self.users + 1):
            yield (i, f"user{i}", f"user{i}@example.org", "x", self.now)

    def ticket_rows(self) -> Iterator[tuple]:
        """Tickets and, per ticket, its evidence row and report: ``(ticket, evidence,
        report)``."""
        rng = random.Random(self.seed)
        now, count = self.now, self.count
        step = SPAN_DAYS * 86400 / count
        open_after = now - timedelta(days=4)
        for i in range(1, count + 1):
            created = now - timedelta(seconds=(count - i) * step + rng.random() * step)
            user = rng.randint(1, self.users)
            strength = rng.choices(("strong", "weak", "none"), (5, 3, 2))[0]
            first = created + timedelta(hours=rng.uniform(0.5, 48))
            if created > open_after or rng.random() < 0.001:
                status = rng.choice(("new", "open", "awaiting_user"))
                decided = None
                first = first if status != "new" and first < now else None
            else:
                status = rng.choices(("approved", "denied", "closed"), (6, 3, 1))[0]
                decided = first + timedelta(hours=rng.uniform(1, 240))
            flagged = rng.random() < 0.02
            report_flags = [FLAG] if rng.random() < 0.03 else []
            ticket = (
                i, "Lost my 2FA device", f"user{user}@example.org", "", f"user{user}", user,
                status, flagged, FLAG if flagged else None, strength, "n" * 32,
                created + timedelta(days=7), created, created, first, decided, 1,
            )  # fmt: skip
            evidence = (i, EVIDENCE_KINDS[i % 4], "x", created)
            report = (
                i, created, user, strength, RECOMMENDATION[strength],
                json.dumps({"flags": report_flags}),
            )  # fmt: skip
            yield ticket, evidence, report


def split_rows(fleet: Fleet) -> tuple[Iterator[tuple], list[tuple], list[tuple]]:
    """The tickets as a stream, and lists of their evidence and reports that fill as the
    stream is read (one pass of the generator for the three tables)."""
    evidence: list[tuple] = []
    reports: list[tuple] = []

    def tickets() -> Iterator[tuple]:
        for ticket, proof, report in fleet.ticket_rows():
            evidence.append(proof)
            reports.append(report)
            yield ticket

    return tickets(), evidence, reports


def _sqlite_value(value: object) -> object:
    return value.astimezone(UTC).strftime(FMT) if isinstance(value, datetime) else value


def _sqlite_rows(rows) -> Iterator[tuple]:
    return (tuple(_sqlite_value(v) for v in row) for row in rows)


def _insert_sqlite(con: sqlite3.Connection, table: str, columns: str, rows) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", _sqlite_rows(rows))


def generate_sqlite(url: str, fleet: Fleet) -> None:
    """``executemany`` with the summary triggers on (SQLite's row triggers keep up)."""
    from core.store.engine import make_engine, upgrade_schema

    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")  # 1 GB: the indexes are filled in random order
    tickets, evidence, reports = split_rows(fleet)
    with con:
        _insert_sqlite(con, "users", USER_COLUMNS, fleet.user_rows())
        con.execute(
            f"INSERT INTO staff_members ({STAFF_COLUMNS}) VALUES (1, 'admin', 1, ?, 'bench')",
            (_sqlite_value(fleet.now),),
        )
        _insert_sqlite(con, "tickets", TICKET_COLUMNS, tickets)
        _insert_sqlite(con, "evidence", EVIDENCE_COLUMNS, evidence)
        _insert_sqlite(con, "verification_reports", REPORT_COLUMNS, reports)
    con.close()


def generate_postgres(url: str, fleet: Fleet) -> None:
    """``COPY`` with every trigger off (``session_replication_role = replica``: neither the
    summary triggers, whose per-statement evidence count is meant for ingest batches, nor
    the foreign-key checks run), then the Ops summaries filled by migration 0003's backfill
    statements and the tables vacuumed and analyzed, as after a restore."""
    import psycopg
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from core.store.engine import alembic_config, make_engine, upgrade_schema

    engine = make_engine(url)
    upgrade_schema(engine)
    summaries = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0003").module
    tickets, evidence, reports = split_rows(fleet)
    with psycopg.connect(_libpq(url)) as con, con.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        _copy(cur, "users", USER_COLUMNS, fleet.user_rows())
        cur.execute(
            f"INSERT INTO staff_members ({STAFF_COLUMNS}) VALUES (1, 'admin', true, %s, 'bench')",
            (fleet.now,),
        )
        _copy(cur, "tickets", TICKET_COLUMNS, tickets)
        _copy(cur, "evidence", EVIDENCE_COLUMNS, evidence)
        _copy(cur, "verification_reports", REPORT_COLUMNS, reports)
        cur.execute("SET session_replication_role = DEFAULT")
        for table in ("users", "tickets", "evidence", "verification_reports"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    with engine.begin() as conn:
        for statement in summaries._backfill(engine.dialect):
            conn.execute(text(statement))
    engine.dispose()
    with psycopg.connect(_libpq(url), autocommit=True) as con:
        con.execute("VACUUM ANALYZE")


def _copy(cur, table: str, columns: str, rows) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_database(server_url: str, name: str, *, keep: bool) -> Iterator[tuple[str, bool]]:
    """A database on the server, yielded with whether it is new: created fresh, or reused
    when ``keep`` and it exists; dropped on the way out unless ``keep``."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(_libpq(server_url), autocommit=True) as con:
        try:
            con.execute(f'CREATE DATABASE "{name}"')
            created = True
        except psycopg.errors.DuplicateDatabase:
            if not keep:
                raise
            created = False
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False), created
    finally:
        if not keep:
            from core.store import dispose_engines

            dispose_engines()
            with psycopg.connect(_libpq(server_url), autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_database(url: str) -> None:
    """Point the app's settings at ``url``; engines stay cached per URL, so switching back
    and forth between rounds costs no new connections."""
    from core.settings import get_settings

    os.environ["BACKOFFICE_DATABASE_URL"] = url
    get_settings.cache_clear()


def probes(url: str, now: datetime) -> dict[str, Callable[[], object]]:
    """Each figure's unit of work on the database at ``url``: the queries of each queue view
    and of the ops report, and an ``AppTest`` rerun of each page (signed in through a real
    staff session, after a warm run: the server-side cost of one click)."""
    from streamlit.testing.v1 import AppTest

    from backoffice.staff import APP_PATH, state
    from core.clock import FrozenClock
    from core.staff.identity import StaffIdentity
    from core.staff.sessions import start_session
    from core.stats import ops_report
    from core.store import get_engine, session_scope
    from core.tickets.queue import QueueFilter, queue_page

    use_database(url)
    engine = get_engine()
    clock = FrozenClock(now)
    start, end = now - timedelta(days=30), now

    def queue(flt: QueueFilter) -> Callable[[], object]:
        def run() -> object:
            with session_scope(engine, readonly=True) as s:
                return queue_page(s, flt, clock=clock)

        return run

    def ops() -> object:
        with session_scope(engine, readonly=True) as s:
            return ops_report(s, start=start, end=end, clock=clock)

    def page(script: str | None) -> Callable[[], object]:
        with session_scope(engine) as s:
            staff = StaffIdentity(1, "user1", "user1@example.org", "admin")
            token = start_session(s, staff=staff, clock=clock)
        at = AppTest.from_file(str(APP_PATH), default_timeout=60)
        at.session_state[state.CLOCK_KEY] = clock
        at.session_state["staff_session_token"] = token
        at.run()
        if script:
            at.switch_page(script).run()
        assert not at.exception, at.exception
        return at.run

    filters = {
        "queue query (open, oldest first)": QueueFilter(),
        "queue query (search user42)": QueueFilter(statuses=(), search="user42"),
        "queue query (open, strong evidence, >24 h)": QueueFilter(
            evidence=("strong",), older_than_hours=24
        ),
        "queue query (open, recommendation deny)": QueueFilter(recommendations=("deny",)),
        "queue query (open, flagged only)": QueueFilter(flagged_only=True),
        "queue query (status approved)": QueueFilter(statuses=("approved",)),
    }
    units = {name: queue(flt) for name, flt in filters.items()}
    units["ops report (last 30 days)"] = ops
    units["Queue page (AppTest rerun)"] = page(None)
    units["Ops page (AppTest rerun)"] = page("views/ops.py")
    return units


def measure(urls: dict[int, str], now: datetime, rounds: int) -> dict[int, dict[str, float]]:
    """Median milliseconds of each figure per size. The sizes take turns round by round, so
    a change in the machine's load (it is shared) weighs on both alike."""
    from core.store import dispose_engines

    units = {count: probes(url, now) for count, url in urls.items()}
    times: dict[int, dict[str, list[float]]] = {count: {} for count in urls}
    for name in units[next(iter(urls))]:
        for _ in range(rounds + 1):
            for count, url in urls.items():
                use_database(url)
                started = time.perf_counter()
                units[count][name]()
                times[count].setdefault(name, []).append(time.perf_counter() - started)
    dispose_engines()
    return {
        count: {name: statistics.median(t[1:]) * 1000 for name, t in figures.items()}
        for count, figures in times.items()
    }


def report(title: str, small_count: int, large_count: int, figures: dict) -> bool:
    """Print one database's table; True when the pages meet the target."""
    small, large = figures[small_count], figures[large_count]
    print(f"\n{title}")
    print(f"{'median server-side time (ms)':<46}{small_count:>10,}{large_count:>12,}{'ratio':>8}")
    for name in small:
        ratio = large[name] / small[name] if small[name] else float("nan")
        print(f"{name:<46}{small[name]:>10.1f}{large[name]:>12.1f}{ratio:>7.2f}x")
    pages = [n for n in small if "page" in n]
    ok = all(large[n] <= 1.5 * small[n] and large[n] < 1000 for n in pages)
    print(f"target (pages: large <= 1.5x small and < 1 s): {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", help="Folder to keep the generated SQLite databases in "
                        "(and keep the PostgreSQL ones, named bench_ui_<size>).")  # fmt: skip
    parser.add_argument("--pg", metavar="URL", help="Also measure on this PostgreSQL server "
                        "(in fresh databases on it).")  # fmt: skip
    parser.add_argument("--no-sqlite", action="store_true", help="Measure PostgreSQL only.")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench-ui-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    os.environ["BACKOFFICE_DATA_DIR"] = str(workdir)
    now = datetime.now(UTC).replace(microsecond=0)
    sizes = (args.small, args.large)
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")

    def timed_generate(generate, url: str, count: int) -> None:
        started = time.perf_counter()
        generate(url, Fleet(count, now))
        print(f"generated {count:,} tickets in {time.perf_counter() - started:.1f} s")

    tables = []
    if not args.no_sqlite:
        urls = {}
        for count in sizes:
            path = workdir / f"tickets-{count}.db"
            urls[count] = f"sqlite:///{path}"
            if not path.exists():
                timed_generate(generate_sqlite, urls[count], count)
        tables.append(("SQLite", measure(urls, now, args.rounds)))
    if args.pg:
        with ExitStack() as stack:
            urls = {}
            for count in sizes:
                name = (
                    f"bench_ui_{count}" if args.keep else f"bench_ui_{count}_{uuid.uuid4().hex[:8]}"
                )
                database = postgres_database(args.pg, name, keep=bool(args.keep))
                urls[count], created = stack.enter_context(database)
                if created:
                    timed_generate(generate_postgres, urls[count], count)
            tables.append(("PostgreSQL", measure(urls, now, args.rounds)))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if not args.keep:
        shutil.rmtree(workdir)
    for title, figures in tables:
        report(title, *sizes, figures)


if __name__ == "__main__":
    main()
