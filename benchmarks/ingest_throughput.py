"""Inbound ingest throughput: N generated recovery emails (default 10,000, each from its own
sender, with an SSH key, a fingerprint, and every 10th with an access token) through the
whole pipeline (store raw, parse, classify, evidence, ticket, acknowledgement in the
outbox), next to bare ``email.message_from_bytes(raw, policy=default)`` on the same bytes
in the same run. Target: ingest at least half the bare-parse rate.

Two ingest configurations, each into a fresh database: everything in one process, and the
way ``backoffice ingest PATH`` runs by default (its batch size, and a parse process beside
the database writer when the machine has two cores or more). Every figure, bare parsing
included, is the best of two interleaved runs: the first pays the warm-up (compiled
regexes and templates, caches).

    python benchmarks/ingest_throughput.py [--count 10000] [--batch-size 500] [--db URL]
        [--workers N]
"""

from __future__ import annotations

import argparse
import email
import os
import subprocess
import sys
import tempfile
import time
from email.policy import default
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backoffice.cli.ingest import PATHS_BATCH_SIZE  # noqa: E402
from core.inbound import SourceMessage, default_parse_processes, ingest_messages  # noqa: E402
from core.store import make_engine, upgrade_schema  # noqa: E402
from tests.support.mail import recovery_email  # noqa: E402


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


def generate(count: int, keys: list[str]) -> list[bytes]:
    messages = []
    for i in range(count):
        key = keys[i % len(keys)]
        token = ""
        if i % 10 == 0:
            letters = "".join(chr(ord("a") + (i >> s) % 26) for s in range(0, 34 * 2, 2))
            token = f"\nMy token: hf_{letters}"
        body = (
            f"Hello support,\n\nI lost my phone and my recovery codes. My username is user{i}.\n"
            f"My SSH key:\n{key}\n"
            f"Its fingerprint: SHA256:{'x' * 43}\n{token}\n\nThanks,\nUser {i}\n"
        )
        messages.append(
            recovery_email(
                sender=f"User {i} <user{i}@example.com>",
                subject=f"Locked out of my account user{i}",
                body=body,
            )
        )
    return messages


def bare_parse_rate(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw, policy=default)
    return len(messages) / (time.perf_counter() - start)


def ingest_rate(
    messages: list[bytes], url: str, batch_size: int, parse_processes: int = 0
) -> tuple[float, str]:
    engine = make_engine(url)
    upgrade_schema(engine)
    stream = (SourceMessage(raw, "benchmark") for raw in messages)
    start = time.perf_counter()
    report = ingest_messages(engine, stream, batch_size=batch_size, parse_processes=parse_processes)
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert report.balanced and report.new_tickets == len(messages), report.summary()
    return len(messages) / elapsed, report.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=PATHS_BATCH_SIZE,
        help=f"Messages per transaction (default: backoffice ingest's, {PATHS_BATCH_SIZE})",
    )
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--workers",
        type=int,
        help="Parse processes for the second run (default: what backoffice ingest picks)",
    )
    args = parser.parse_args()
    workers = args.workers
    if workers is None:
        workers = default_parse_processes(args.count, args.batch_size)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BACKOFFICE_DATA_DIR", tmp)
        os.environ.setdefault("BACKOFFICE_SECRET_KEY", "benchmark-only-not-a-secret")
        messages = generate(args.count, key_lines(Path(tmp), 20))
        size = sum(map(len, messages)) / len(messages)
        runs: dict[int, list[tuple[float, str]]] = {0: [], workers: []}
        bare_runs = []
        for attempt in range(2):  # interleaved, so a slow spell of the machine hits each
            bare_runs.append(bare_parse_rate(messages))
            for processes in dict.fromkeys((0, workers)):
                url = args.db or f"sqlite:///{Path(tmp) / f'bench-{processes}-{attempt}.db'}"
                if args.db:
                    reset(args.db)
                runs[processes].append(ingest_rate(messages, url, args.batch_size, processes))
    bare = max(bare_runs)
    single, summary = max(runs[0])
    default_run, _ = max(runs[workers])
    print(f"messages:            {args.count} (avg {size:.0f} bytes), batch {args.batch_size}")
    print(f"database:            {url.split(':', 1)[0]}")
    print(f"cores:               {os.cpu_count()}")
    print(f"bare parse:          {bare:9.0f} messages/s  (message_from_bytes, policy=default)")
    print(f"ingest, 1 process:   {single:9.0f} messages/s  ({summary})")
    print(f"  ratio to parse:    {single / bare:9.2f}  (for reference: parse and write in turn)")
    print(
        f"ingest, as the CLI:  {default_run:9.0f} messages/s  ({workers} parse process(es) "
        f"+ the database writer on {os.cpu_count()} cores)"
    )
    print(f"  ratio to parse:    {default_run / bare:9.2f}  (target >= 0.50)")


def reset(url: str) -> None:
    """Empty the given database between the two runs (both must start from the same state)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    engine.dispose()


if __name__ == "__main__":
    main()
