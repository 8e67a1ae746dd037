"""Inbound ingest throughput on SQLite and PostgreSQL, against bare stdlib parsing, in one run.

Mail: N generated recovery emails (default 3,000) in two shapes: ~1 KB plain mails, and
~2 KB mails with relay headers (Received, DKIM, ARC) and a MIME text+HTML body; each from
its own sender, with an SSH key, a fingerprint, and every 10th with an access token.

Figures (each the best of ``--rounds`` interleaved runs, so a slow spell of the shared
machine hits every configuration alike):

- bare parsing: ``message_from_bytes(raw, policy=default)`` and
  ``get_body().get_content()`` of every mail, in one process;
- preparing (parse, evidence, token masking, the redacted raw copy, the content digest:
  what the parse process and, when it falls behind, the writer do per mail), in one
  process;
- the machine's parallel capacity: the work two CPU-bound processes do at once, as a
  multiple of one's (an ingest is a parse process, the writer and, on PostgreSQL, its
  server, so this bounds what running them side by side can give);
- ingest as ``backoffice ingest PATH`` runs it (its batch size and parse process) into a
  fresh SQLite file and a fresh PostgreSQL database, in a fresh process warmed up on 50
  other mails first (as a long run is): messages/s, and the ratios to bare parsing and
  PostgreSQL to SQLite; and how busy its writer, its parse process(es) and (PostgreSQL)
  the server kept the cores (their CPU seconds over the run's seconds), which shows
  whether an ingest waited on one stage or was short of cores;
- PostgreSQL with 1 and 2 ingest processes (each with its own mail): messages/s and
  messages per CPU-second, the CPU being the ingest processes' (children included) plus
  the PostgreSQL backends serving them (read from /proc; the server must be local).

    python benchmarks/ingest_throughput.py [--count 3000] [--pg URL] [--rounds 2]

Without ``--pg`` PostgreSQL is skipped (one line says so); with it, each run gets a new
database on that server, dropped afterwards.
"""

from __future__ import annotations

import argparse
import email
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backoffice.cli.ingest import PATHS_BATCH_SIZE  # noqa: E402
from core.inbound import SourceMessage, default_parse_processes, ingest_messages  # noqa: E402
from core.inbound.prepare import prepare_all  # noqa: E402
from core.store import make_engine, upgrade_schema  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RELAY_HEADERS = (
    "Received: from mail-ej1-f41.google.com (mail-ej1-f41.google.com [209.85.218.41])\r\n"
    "\tby mx1.example.net (Postfix) with ESMTPS id 4Q7Zx81b2Bz9sWn\r\n"
    "\tfor <website@huggingface.co>; Sat, 28 Nov 2026 12:00:01 +0000 (UTC)\r\n"
    "Received: by mail-ej1-f41.google.com with SMTP id a640c23a62f3a-9f8e6b1c2d3so12345678\r\n"
    "\tfor <website@huggingface.co>; Sat, 28 Nov 2026 04:00:00 -0800 (PST)\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601;\r\n"
    "\th=to:subject:message-id:date:from:mime-version:from:to:cc:subject:date;\r\n"
    "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "\tb=Kx3q0N5b8mB7hQ2lR9tV1wY4zA6cE8gI0kM2oQ4sU6wY8aC0eG2iK4mO6qS8uW0yA2cE4gI6kM8o\r\n"
    "ARC-Authentication-Results: i=1; mx.example.net; dkim=pass header.i=@example.com;\r\n"
    "\tspf=pass (example.net: domain of user@example.com designates 209.85.218.41)\r\n"
    "Authentication-Results: mx1.example.net; dkim=pass; spf=pass; dmarc=pass\r\n"
)


def key_lines(folder: Path, count: int) -> list[str]:
    lines = []
    for i in range(count):
        path = folder / f"id_{i}"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"user{i}@laptop", "-f", path],
            check=True,
        )
        lines.append(path.with_suffix(".pub").read_text().strip())
    return lines


def generate(count: int, keys: list[str], shape: str, tag: str) -> list[bytes]:
    """``shape`` 1k: plain text; 2k: relay headers and a text+HTML body."""
    messages = []
    for i in range(count):
        token = ""
        if i % 10 == 0:
            letters = "".join(chr(ord("a") + (i >> s) % 26) for s in range(0, 34 * 2, 2))
            token = f"\nMy token: hf_{letters}"
        more = (
            "I use this account every day for my models and datasets and would be grateful "
            "for a quick answer. I can sign a challenge with the key above if that helps, or "
            "answer any question you have about the account: when it was made, which "
            "organisations it belongs to, which repositories I pushed to last week.\n\n"
        )
        body = (
            f"Hello support,\n\nI lost my phone and my recovery codes, so I cannot sign in to "
            f"my account any more. My username is user{i}.\n"
            f"My SSH key:\n{keys[i % len(keys)]}\n"
            f"Its fingerprint: SHA256:{'x' * 43}\n{token}\n\n"
            f"{more if shape == '1k' else ''}Thanks,\nUser {i}\n"
        )
        msg = EmailMessage()
        msg["From"] = f"User {i} <user{i}.{tag}@example.com>"
        msg["To"] = "website@huggingface.co"
        msg["Subject"] = f"Locked out of my account user{i}"
        msg["Date"] = "Sat, 28 Nov 2026 12:00:00 +0000"
        msg["Message-ID"] = f"<{tag}-{i}@example.com>"
        msg.set_content(body)
        raw = msg.as_bytes()
        if shape == "2k":
            msg.add_alternative(
                "<html><body>"
                + "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
                + "</body></html>",
                subtype="html",
            )
            raw = RELAY_HEADERS.encode() + msg.as_bytes()
        messages.append(raw)
    return messages


def prepare_rate(messages: list[bytes]) -> float:
    start = time.perf_counter()
    prepare_all(messages)
    return len(messages) / (time.perf_counter() - start)


def bare_parse_rate(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        msg = email.message_from_bytes(raw, policy=default)
        msg.get_body(("plain", "html")).get_content()
    return len(messages) / (time.perf_counter() - start)


class Databases:
    """A fresh database per run: a SQLite file, or a new database on the --pg server."""

    def __init__(self, folder: Path, pg: str | None) -> None:
        self.folder, self.pg, self.made = folder, pg, []

    def new(self, kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{self.folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        else:
            name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
            with create_engine(self.pg, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(self.pg).set(database=name).render_as_string(hide_password=False)
            self.made.append(name)
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        return url

    def drop_all(self) -> None:
        if not self.made:
            return
        with create_engine(self.pg, isolation_level="AUTOCOMMIT").connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to one database, sampled from /proc
    while they run (a backend's last sample is at most ``every`` old when it exits)."""

    def __init__(self, url: str, every: float = 0.05) -> None:
        self.url, self.every = url, every
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def run(self) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        with engine.connect() as conn:
            while not self.stop.is_set():
                for pid in conn.execute(query).scalars():
                    cpu = _proc_cpu(pid)
                    if cpu is not None:
                        self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
                self.stop.wait(self.every)
        engine.dispose()

    def snapshot(self) -> dict[int, float]:
        return dict(self.seen)

    def seconds_since(self, snapshot: dict[int, float]) -> float:
        return sum(cpu - snapshot.get(pid, 0.0) for pid, cpu in self.seen.items())


class InProcess:
    """``BackendCpu`` for SQLite, whose work is the ingest process's own CPU."""

    every = 0.0

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def snapshot(self) -> dict[int, float]:
        return {}

    def seconds_since(self, snapshot: dict[int, float]) -> float:
        return 0.0


def _proc_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def ingest(url: str, messages: list[bytes], batch_size: int, processes: int) -> tuple[float, str]:
    """One ingest as the CLI runs it; (seconds, report summary)."""
    engine = make_engine(url)
    stream = (SourceMessage(raw, "benchmark") for raw in messages)
    start = time.perf_counter()
    report = ingest_messages(engine, stream, batch_size=batch_size, parse_processes=processes)
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert report.balanced and report.new_tickets == len(messages), report.summary()
    return elapsed, report.summary()


def _child(
    url: str, warm: list[bytes], messages: list[bytes], batch_size: int, processes: int, q, go
) -> None:
    """One ingest process of a fleet: warms up on its own few mails (imports, compiled
    regexes, templates and statements, as a long-running ingest is), says so, waits for the
    start, then reports when its ingest ran and the CPU it used (its parse process
    included)."""
    multiprocessing.set_start_method("fork", force=True)  # its parse process, as the CLI's
    ingest(url, warm, batch_size, 0)
    q.put("warm")
    go.wait()
    before = _own_cpu()
    start = time.time()
    ingest(url, messages, batch_size, processes)
    after = _own_cpu()
    q.put((start, time.time(), tuple(b - a for a, b in zip(before, after, strict=True))))


def _own_cpu() -> tuple[float, float]:
    """CPU seconds of this process (the writer) and of its ended children (the parse
    processes, which have ended when the ingest returns)."""
    return tuple(  # type: ignore[return-value]
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def fleet(
    url: str, shares: list[tuple[list[bytes], list[bytes]]], batch_size: int, processes: int
) -> tuple[float, tuple[float, float, float]]:
    """One ingest process per share (warm-up mail, mail), all at once: (seconds from the
    first start to the last end, CPU seconds in that time of the writers, of their parse
    processes and of their PostgreSQL backends)."""
    ctx = multiprocessing.get_context("spawn")
    q, go = ctx.Queue(), ctx.Event()
    with BackendCpu(url) if url.startswith("postgresql") else InProcess() as server:
        procs = [
            ctx.Process(target=_child, args=(url, warm, mail, batch_size, processes, q, go))
            for warm, mail in shares
        ]
        for p in procs:
            p.start()
        assert [q.get() for _ in procs] == ["warm"] * len(procs)
        time.sleep(2 * server.every)
        at_start = server.snapshot()
        go.set()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
    assert all(p.exitcode == 0 for p in procs)
    wall = max(end for _, end, _ in results) - min(start for start, _, _ in results)
    writers = sum(cpu[0] for _, _, cpu in results)
    parsers = sum(cpu[1] for _, _, cpu in results)
    return wall, (writers, parsers, server.seconds_since(at_start))


def _spin(_: int) -> float:
    """A fixed pure-Python workload; its CPU seconds."""
    start = time.process_time()
    total = 0
    for i in range(8_000_000):
        total += i
    return time.process_time() - start


def parallel_capacity() -> float:
    """How much work two CPU-bound processes do at once, as a multiple of one process's: 2.0
    on two independent cores, less where the cores share a physical core or the host is
    busy. It bounds what a parse process beside the writer can add to ingest."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        alone = min(pool.map(_spin, [0]) + pool.map(_spin, [0]))
        start = time.perf_counter()
        pool.map(_spin, [0, 1], chunksize=1)
        together = time.perf_counter() - start
    return 2 * alone / together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="Mails per shape and run")
    parser.add_argument("--pg", help="PostgreSQL server URL (a database is made per run)")
    parser.add_argument("--rounds", type=int, default=2, help="Interleaved runs per figure")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=PATHS_BATCH_SIZE,
        help=f"Messages per transaction (default: backoffice ingest's, {PATHS_BATCH_SIZE})",
    )
    args = parser.parse_args()
    workers = default_parse_processes(None, args.batch_size)
    capacity = parallel_capacity()
    kinds = ["sqlite", "postgresql"] if args.pg else ["sqlite"]

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BACKOFFICE_DATA_DIR", tmp)
        os.environ.setdefault("BACKOFFICE_SECRET_KEY", "benchmark-only-not-a-secret")
        os.environ.setdefault("BACKOFFICE_ACK_MAX_PER_HOUR", str(10**9))  # every ack written
        keys = key_lines(Path(tmp), 20)
        mails = {shape: generate(args.count, keys, shape, shape) for shape in ("1k", "2k")}
        fleet_mail = [
            (generate(50, keys, "1k", f"w{i}"), generate(args.count, keys, "1k", f"p{i}"))
            for i in range(2)
        ]
        dbs = Databases(Path(tmp), args.pg)
        bare: dict[str, float] = {}
        prepared: dict[str, float] = {}
        rate: dict[tuple[str, str], float] = {}
        busy: dict[tuple[str, str], tuple[float, ...]] = {}
        per_cpu: dict[int, tuple[float, float]] = {}
        try:
            for _ in range(args.rounds):
                for shape, messages in mails.items():
                    bare[shape] = max(bare.get(shape, 0), bare_parse_rate(messages))
                    prepared[shape] = max(prepared.get(shape, 0), prepare_rate(messages))
                    for kind in kinds:
                        warm = generate(50, keys, shape, f"w{kind}")
                        url = dbs.new(kind)
                        seconds, cpu = fleet(url, [(warm, messages)], args.batch_size, workers)
                        if len(messages) / seconds > rate.get((kind, shape), 0):
                            rate[kind, shape] = len(messages) / seconds
                            busy[kind, shape] = tuple(c / seconds for c in cpu)
                if args.pg:
                    for n in (1, 2):
                        wall, cpu = fleet(
                            dbs.new("postgresql"), fleet_mail[:n], args.batch_size, workers
                        )
                        total = n * args.count
                        best = per_cpu.get(n, (0.0, 0.0))
                        per_cpu[n] = (max(best[0], total / wall), max(best[1], total / sum(cpu)))
        finally:
            dbs.drop_all()

    print(f"mails: {args.count} per shape; batch {args.batch_size}, {workers} parse process(es)")
    print(f"       {os.cpu_count()} cores; best of {args.rounds} interleaved rounds")
    print(
        f"       two processes at once do {capacity:.2f}x the work of one "
        "(2.00 on independent cores)"
    )
    for shape, messages in mails.items():
        size = sum(map(len, messages)) / len(messages)
        print(f"\n~{shape} mails (avg {size:.0f} bytes)")
        print(f"  bare parse + get_content: {bare[shape]:7.0f} msg/s")
        ratio = prepared[shape] / bare[shape]
        print(
            f"  prepare, one process:     {prepared[shape]:7.0f} msg/s   ratio to bare {ratio:.2f}"
        )
        for kind in kinds:
            r = rate[kind, shape]
            print(
                f"  ingest, {kind:<10}        {r:7.0f} msg/s   ratio to bare {r / bare[shape]:.2f}"
            )
            writer, parsers, server = busy[kind, shape]
            print(
                f"    cores busy: writer {writer:.2f}, parse process(es) {parsers:.2f}"
                + (f", server {server:.2f}" if kind == "postgresql" else "")
            )
        if args.pg:
            ratio = rate["postgresql", shape] / rate["sqlite", shape]
            print(f"  PostgreSQL / SQLite:      {ratio:7.2f}")
    if not args.pg:
        print("\nPostgreSQL: skipped (no --pg URL given)")
        return
    print("\nPostgreSQL, ingest processes side by side (~1k mails, each process its own mail)")
    for n, (speed, cpu) in per_cpu.items():
        print(
            f"  {n} process(es):  {speed:7.0f} msg/s   {cpu:7.0f} msg per CPU-second (incl. server)"
        )
    cpu_ratio, speed_ratio = per_cpu[2][1] / per_cpu[1][1], per_cpu[2][0] / per_cpu[1][0]
    print(f"  2 vs 1: {cpu_ratio:.2f} per CPU-second, {speed_ratio:.2f} msg/s")


if __name__ == "__main__":
    main()
