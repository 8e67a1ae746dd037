"""Outbox delivery rate against a relay 20 ms away (an aiosmtpd subprocess that delays the
last line of every reply by one round trip, ``tests/support/slow_relay.py``): a naive
sequential ``smtplib`` loop with one connection per message, then ``OutboxSender`` (leased
claims, ``smtp_connections`` reused aiosmtplib connections, a commit per outcome) in one
process and in several processes at once, with the ratios.

    python benchmarks/outbox_delivery.py [--count 1000] [--workers 4] [--delay 0.020]
        [--naive 60] [--db postgresql+psycopg://...]   # default: a fresh SQLite file
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


ROUND_TRIPS_PER_MESSAGE = 4
"""MAIL, RCPT, DATA and the end of data each wait for the relay's reply on a reused connection."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the relay did not start on {port}")


def fresh_outbox(count: int) -> None:
    """An empty outbox, then ``count`` queued emails (one statement)."""
    from sqlalchemy import delete

    from core.store import get_engine, session_scope
    from core.store.tables import OutboxEmail
    from tests.support.long_running import queue_emails

    engine = get_engine()
    with session_scope(engine) as s:
        s.execute(delete(OutboxEmail))
    queue_emails(engine, count)


def _sender(n: int, start, results) -> None:
    from core.mail.sender import OutboxSender
    from core.store.engine import dispose_engines, get_engine

    dispose_engines()
    sender = OutboxSender(get_engine(upgrade=False), worker_id=f"bench{n}")
    start.wait()
    results.put(sender.deliver_due().sent)


def run_senders(processes: int) -> tuple[float, int]:
    """Wall time for ``processes`` forked sender processes to drain the outbox."""
    from core.store.engine import dispose_engines

    dispose_engines()
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(processes + 1), ctx.Queue()
    procs = [ctx.Process(target=_sender, args=(n, start, results)) for n in range(processes)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    sent = sum(results.get(timeout=900) for _ in procs)
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return elapsed, sent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def naive_loop(count: int, port: int) -> float:
    """Build each queued message and send it on a new ``smtplib`` connection, one by one."""
    from sqlalchemy import select

    from core.mail.message import message_bytes
    from core.settings import get_settings
    from core.store import get_engine, session_scope
    from core.store.tables import OutboxEmail

    with session_scope(get_engine(), readonly=True) as s:
        rows = s.execute(select(OutboxEmail).limit(count)).scalars().all()
    row_sender = get_settings().support_address
    began = time.perf_counter()
    for row in rows:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(row_sender, [row.to_addr], message_bytes(row))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="emails per sender run")
    parser.add_argument("--workers", type=int, default=4, help="sender processes at once")
    parser.add_argument("--delay", type=float, default=0.020, help="relay round trip (s)")
    parser.add_argument("--naive", type=int, default=60, help="emails for the smtplib loop")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    port = free_port()
    os.environ.update(
        BACKOFFICE_DATA_DIR=str(tmp),
        BACKOFFICE_DATABASE_URL=args.db or f"sqlite:///{tmp / 'bench.db'}",
        BACKOFFICE_SMTP_PORT=str(port),
    )
    relay = subprocess.Popen(
        [sys.executable, "-m", "tests.support.slow_relay", str(port), str(args.delay)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        fresh_outbox(args.naive)
        naive = args.naive / naive_loop(args.naive, port)
        fresh_outbox(args.count)
        before_one = children_cpu()
        one_time, sent_one = run_senders(1)
        one_cpu = (children_cpu() - before_one) / sent_one
        fresh_outbox(args.count * args.workers)
        cpu = children_cpu(), cpu_seconds(relay.pid)
        many_time, sent_many = run_senders(args.workers)
        sender_cpu = (children_cpu() - cpu[0]) / sent_many
        relay_cpu = (cpu_seconds(relay.pid) - cpu[1]) / sent_many
        load = os.getloadavg()[0]
    finally:
        relay.terminate()
        relay.wait(timeout=10)
    assert sent_one == args.count and sent_many == args.count * args.workers, (sent_one, sent_many)
    one, many = sent_one / one_time, sent_many / many_time

    from core.settings import get_settings
    from core.store import get_engine

    connections = get_settings().smtp_connections
    dialect = get_engine().dialect.name
    print(
        f"Relay {args.delay * 1000:.0f} ms away (aiosmtpd subprocess); {dialect} outbox; "
        f"{os.cpu_count()} CPUs"
    )
    rows = [
        (f"naive smtplib loop, one connection per message ({args.naive})", naive, ""),
        (
            f"outbox sender, 1 process x {connections} connections ({sent_one})",
            one,
            f"{one / naive:5.1f}x naive",
        ),
        (
            f"outbox sender, {args.workers} processes ({sent_many})",
            many,
            f"{many / naive:5.1f}x naive, {many / one:4.2f}x one process",
        ),
    ]
    for label, rate, ratio in rows:
        print(f"  {label:<56} {rate:7.1f} emails/s  {ratio}")
    latency_bound = connections / (ROUND_TRIPS_PER_MESSAGE * args.delay)
    print(
        f"  1 process: {connections} connections x 1 message per {ROUND_TRIPS_PER_MESSAGE} "
        f"round trips (MAIL, RCPT, DATA, end of data) -> at most {latency_bound:.0f} emails/s; "
        f"it used {one_cpu * 1000:.2f} ms CPU per email, {one * one_cpu:.0%} of one CPU"
    )
    ceiling = (os.cpu_count() or 1) / (sender_cpu + relay_cpu)
    print(
        f"  CPU per email with {args.workers} processes: senders {sender_cpu * 1000:.2f} ms, "
        f"relay {relay_cpu * 1000:.2f} ms -> at most {ceiling:.0f} emails/s on "
        f"{os.cpu_count()} idle CPUs (load average during the run: {load:.1f})"
    )


if __name__ == "__main__":
    main()
