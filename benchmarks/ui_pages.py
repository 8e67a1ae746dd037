"""Server-side cost of the staff app's Queue and Ops pages with 100 and with 1,000,000
tickets, in the same run (issue: the staff back office).

For each size it generates a SQLite database (bulk ``executemany``: ~0.5% of tickets open,
the rest decided over three years, one evidence row per ticket), then prints the median
time of the queries each page runs (the queue page in its default view, with a search, and
on a huge status; the whole ops report for the last 30 days) and of an ``AppTest`` rerun of
each page (signed in, after a warm run: the server-side cost of one click). Target: large
<= 1.5x small, and under one second.

    python benchmarks/ui_pages.py [--large 1000000] [--rounds 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

SPAN_DAYS = 3 * 365
FMT = "%Y-%m-%d %H:%M:%S.%f"


def generate(path: Path, count: int, now: datetime, *, seed: int = 7) -> None:
    """Bulk-insert ``count`` tickets spread over three years, newest ones still open."""
    from core.store.engine import make_engine, upgrade_schema

    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    rng = random.Random(seed)
    users = max(10, count // 100)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.executemany(
            "INSERT INTO users (id, username, email, password_hash, created_at) "
            "VALUES (?, ?, ?, 'x', ?)",
            (
                (i, f"user{i}", f"user{i}@example.org", now.strftime(FMT))
                for i in range(1, users + 1)
            ),
        )
        con.execute(  # the signed-in staff member the pages re-check on every run
            "INSERT INTO staff_members (user_id, role, active, created_at, created_by) "
            "VALUES (1, 'admin', 1, ?, 'bench')",
            (now.strftime(FMT),),
        )
    step = SPAN_DAYS * 86400 / count
    open_after = now - timedelta(days=4)

    def tickets():
        for i in range(1, count + 1):
            created = now - timedelta(seconds=(count - i) * step + rng.random() * step)
            user = rng.randint(1, users)
            strength = rng.choices(("strong", "weak", "none"), (5, 3, 2))[0]
            first = created + timedelta(hours=rng.uniform(0.5, 48))
            if created > open_after or rng.random() < 0.001:
                status = rng.choice(("new", "open", "awaiting_user"))
                decided = None
                first = first if status != "new" and first < now else None
            else:
                status = rng.choices(("approved", "denied", "closed"), (6, 3, 1))[0]
                decided = first + timedelta(hours=rng.uniform(1, 240))
            yield (
                i, "Lost my 2FA device", f"user{user}@example.org", f"user{user}", user, status,
                strength, "n" * 32, (created + timedelta(days=7)).strftime(FMT),
                created.strftime(FMT), created.strftime(FMT),
                first.strftime(FMT) if first else None,
                decided.strftime(FMT) if decided else None,
            )  # fmt: skip

    with con:
        con.executemany(
            "INSERT INTO tickets (id, subject, requester_email, requester_name, claimed_username,"
            " user_id, status, flagged, evidence_strength, challenge_nonce, challenge_expires_at,"
            " created_at, updated_at, first_response_at, decided_at, version)"
            " VALUES (?, ?, ?, '', ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, 1)",
            tickets(),
        )
        kinds = ("ssh_public_key", "fingerprint", "token", "ssh_signature")
        con.executemany(
            "INSERT INTO evidence (ticket_id, kind, value, created_at) VALUES (?, ?, 'x', ?)",
            ((i, kinds[i % 4], now.strftime(FMT)) for i in range(1, count + 1)),
        )
    con.close()


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(path: Path, now: datetime, rounds: int) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    from backoffice.staff import APP_PATH
    from core.clock import FrozenClock
    from core.settings import get_settings
    from core.stats import ops_report
    from core.store import dispose_engines, get_engine, session_scope
    from core.tickets.queue import QueueFilter, queue_page

    os.environ["BACKOFFICE_DATABASE_URL"] = f"sqlite:///{path}"
    get_settings.cache_clear()
    dispose_engines()
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

    def page_rerun(script: str | None) -> float:
        """Median time of a rerun of one page (what each click costs), after a warm run."""
        at = AppTest.from_file(str(APP_PATH), default_timeout=60)
        at.session_state["staff_clock"] = clock
        at.session_state["staff_identity"] = {
            "user_id": 1, "username": "bench", "email": "b@x.org", "role": "admin"
        }  # fmt: skip
        at.session_state["staff_last_seen"] = now
        at.run()
        if script:
            at.switch_page(script).run()
        assert not at.exception, at.exception
        return median_ms(at.run, rounds)

    results = {
        "queue query (open, oldest first)": median_ms(queue(QueueFilter()), rounds),
        "queue query (search user42)": median_ms(
            queue(QueueFilter(statuses=(), search="user42")), rounds
        ),
        "queue query (open, strong evidence, >24 h)": median_ms(
            queue(QueueFilter(evidence=("strong",), older_than_hours=24)), rounds
        ),
        "queue query (status approved)": median_ms(
            queue(QueueFilter(statuses=("approved",))), rounds
        ),
        "ops report (last 30 days)": median_ms(ops, rounds),
    }
    results["Queue page (AppTest rerun)"] = page_rerun(None)
    results["Ops page (AppTest rerun)"] = page_rerun("views/ops.py")
    dispose_engines()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", help="Folder to keep the generated databases in.")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench-ui-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    os.environ["BACKOFFICE_DATA_DIR"] = str(workdir)
    now = datetime.now(UTC).replace(microsecond=0)

    figures: dict[int, dict[str, float]] = {}
    for count in (args.small, args.large):
        path = workdir / f"tickets-{count}.db"
        if not path.exists():
            started = time.perf_counter()
            generate(path, count, now)
            print(f"generated {count:,} tickets in {time.perf_counter() - started:.1f} s")
        figures[count] = measure(path, now, args.rounds)

    small, large = figures[args.small], figures[args.large]
    print(f"\n{'median server-side time (ms)':<46}{args.small:>10,}{args.large:>12,}{'ratio':>8}")
    for name in small:
        ratio = large[name] / small[name] if small[name] else float("nan")
        print(f"{name:<46}{small[name]:>10.1f}{large[name]:>12.1f}{ratio:>7.2f}x")
    pages = [n for n in small if "page" in n]
    ok = all(large[n] <= 1.5 * small[n] and large[n] < 1000 for n in pages)
    print(f"\ntarget (pages: large <= 1.5x small and < 1 s): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
