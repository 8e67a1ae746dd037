"""Outbox delivery rate: 1,000 queued emails sent by ``OutboxSender`` (claims, one reused
aiosmtplib connection per worker, a committed status per row), with one worker and with
several worker processes, next to a plain ``smtplib`` loop that builds each message and
opens one connection per message; all to the same local aiosmtpd server (a subprocess).

    python benchmarks/outbox_delivery.py [--count 1000] [--workers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the SMTP server did not start on {port}")


def queue(count: int) -> list[int]:
    from core.mail.outbox import queue_email
    from core.mail.samples import sample_context
    from core.store import get_engine, session_scope

    with session_scope(get_engine()) as s:
        rows = [
            queue_email(
                s, template="denied", to=f"user{n}@example.org", context=sample_context("denied")
            )
            for n in range(count)
        ]
        s.flush()
        return [r.id for r in rows]


def _worker(n: int, start, results) -> None:
    from core.mail.sender import OutboxSender
    from core.store.engine import dispose_engines, get_engine

    dispose_engines()
    sender = OutboxSender(get_engine(), worker_id=f"bench{n}")
    start.wait()
    results.put(sender.deliver_due().sent)


def run_workers(workers: int) -> tuple[float, int]:
    """Wall time for ``workers`` forked sender processes to drain the outbox."""
    from core.store.engine import dispose_engines

    dispose_engines()
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(n, start, results)) for n in range(workers)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    sent = sum(results.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return elapsed, sent


def plain_loop(ids: list[int], port: int) -> float:
    from core.mail.message import build_message
    from core.store import get_engine, session_scope
    from core.store.tables import OutboxEmail

    with session_scope(get_engine(), readonly=True) as s:
        rows = [s.get(OutboxEmail, i) for i in ids]
    began = time.perf_counter()
    for row in rows:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(build_message(row))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    n = args.count

    tmp = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    port = free_port()
    os.environ.update(
        BACKOFFICE_DATA_DIR=str(tmp),
        BACKOFFICE_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        BACKOFFICE_SMTP_PORT=str(port),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        began = time.perf_counter()
        ids = queue(n)
        queued = time.perf_counter() - began
        one, sent_one = run_workers(1)
        queue(n)
        many, sent_many = run_workers(args.workers)
        plain = plain_loop(ids, port)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sent_one == n and sent_many == n, (sent_one, sent_many)

    from core.settings import get_settings

    connections = get_settings().smtp_connections
    print(
        f"{n} emails to a local aiosmtpd server (subprocess); SQLite outbox; {os.cpu_count()} CPUs"
    )
    rows = [
        ("queueing: render + insert, one transaction", queued),
        (f"outbox sender, 1 worker ({connections} reused connections)", one),
        (f"outbox sender, {args.workers} worker processes", many),
        ("plain smtplib loop, one connection per message", plain),
    ]
    for label, seconds in rows:
        print(f"  {label:<48} {n / seconds:7.0f} emails/s  ({seconds:5.2f} s)")


if __name__ == "__main__":
    main()
