"""Worst-case time and peak memory of one hostile message (``tests/support/hostile_mail``:
nested HTML lists, tens of thousands of encoded words, huge attachments, thousands of
parts, deep nesting, long headers, a log of key- and token-like lines, token-like words
split by tags) at the default size limit, each read in a fresh process: ``parse_message``
alone, and the whole database-free preparation ingestion runs (parse, evidence, token
redaction of the texts and of the raw copy). Goal: each under 2 s and 200 MB above the process's
own footprint; time is judged in CPU seconds, since the wall clock also counts whatever
else the machine runs.

    python benchmarks/hostile_mail.py [--size BYTES] [--shape NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import get_settings  # noqa: E402
from tests.support.hostile_mail import SHAPES  # noqa: E402

GOAL_SECONDS = 2.0
GOAL_MB = 200


def _status(field: str) -> float:
    """A ``/proc/self/status`` figure in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, mode: str) -> None:
    """Read one message in this fresh process and print its figures as JSON."""
    from core.inbound.evidence import extract_evidence
    from core.inbound.parsing import UnparseableMessage, parse_message

    raw = Path(path).read_bytes()
    limit = get_settings().inbound_max_bytes

    def work() -> str:
        if mode == "prepare":
            from core.inbound.prepare import prepare

            prepared = prepare(raw)
            return "parsed" if prepared.parsed else f"quarantined: {prepared.reason}"
        try:
            parsed = parse_message(raw, max_bytes=limit)
        except UnparseableMessage as exc:
            return f"quarantined: {exc}"
        extract_evidence(parsed.evidence_texts(), claim_texts=parsed.claim_texts())
        return "parsed" + (f" ({parsed.notes[0]})" if parsed.notes else "")

    work_warm = parse_message(b"From: a@example.com\r\n\r\nwarm-up\r\n", max_bytes=limit)
    del work_warm
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
    before = _status("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    outcome = work()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _status("VmHWM")
    figures = {"seconds": seconds, "cpu": cpu, "peak": peak, "above": peak - before}
    print(json.dumps({**figures, "outcome": outcome}))


def measure(raw: bytes, mode: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".eml") as file:
        file.write(raw)
        file.flush()
        done = subprocess.run(
            [sys.executable, __file__, "--child", file.name, mode],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "BACKOFFICE_DATA_DIR": tempfile.gettempdir()},
        )
    if done.returncode != 0:
        failed = {"seconds": float("nan"), "cpu": float("nan"), "peak": 0, "above": 0}
        return {**failed, "outcome": done.stderr[-200:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def sized(shape: str, size: int) -> bytes:
    """The shape as close under ``size`` bytes as its generator allows."""
    raw = SHAPES[shape](size)
    while len(raw) > size:
        raw = SHAPES[shape](int(size * size / len(raw) * 0.99))
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=get_settings().inbound_max_bytes)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"hostile messages at {args.size} bytes (default limit), one fresh process each")
    print(
        f"{'shape':22} {'bytes':>9} {'step':8} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} "
        f"{'above':>6}  outcome"
    )
    worst = {"cpu": 0.0, "above": 0.0}
    for shape in args.shape or SHAPES:
        raw = sized(shape, args.size)
        for mode in ("parse", "prepare"):
            r = measure(raw, mode)
            worst["cpu"] = max(worst["cpu"], r["cpu"])
            worst["above"] = max(worst["above"], r["above"])
            print(
                f"{shape:22} {len(raw):>9} {mode:8} {r['seconds']:7.2f} {r['cpu']:6.2f} "
                f"{r['peak']:8.0f} {r['above']:6.0f}  {r['outcome'][:60]}"
            )
    ok = worst["cpu"] < GOAL_SECONDS and worst["above"] < GOAL_MB
    print(
        f"worst: {worst['cpu']:.2f} CPU s, {worst['above']:.0f} MB above the process "
        f"(goal: under {GOAL_SECONDS:.0f} s and {GOAL_MB} MB) -> {'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
