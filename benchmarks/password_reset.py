"""Time of a *Forgot password?* request for an address with an account and one without,
interleaved, each in its own transaction as the portal runs it (issue #13: the answer must
not tell them apart). The tests count the work both paths do; this prints what it costs.

Prints the median and p95 of each path and their difference, then the cost of completing a
reset (link check, argon2id hash of the new password, audit and notice).

    python benchmarks/password_reset.py [--rounds 300] [--db sqlite:///...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime

from cryptography.fernet import Fernet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-reset-")
    os.environ.setdefault("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    os.environ["BACKOFFICE_DATA_DIR"] = workdir
    os.environ["BACKOFFICE_PASSWORD_RESET_RESEND_SECONDS"] = "0"  # every known request sends

    from sqlmodel import select

    from core.accounts.password_reset import (
        ANSWER_FLOOR_SECONDS,
        answer_no_sooner_than,
        complete_password_reset,
        request_password_reset,
        send_reset_link,
    )
    from core.accounts.users import create_user
    from core.clock import FrozenClock
    from core.store import get_engine, session_scope
    from core.store.tables import User

    engine = get_engine(args.db or f"sqlite:///{workdir}/bench.db")
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    with session_scope(engine) as s:
        create_user(s, username="known", email="known@example.com", password="old password!")

    def request(address: str, floor: float) -> float:
        clock.advance(seconds=1)
        start = time.perf_counter()
        with answer_no_sooner_than(floor), session_scope(engine) as s:
            request_password_reset(s, email=address, clock=clock)
        return (time.perf_counter() - start) * 1000

    def both_paths(floor: float, rounds: int) -> tuple[list[float], list[float]]:
        known: list[float] = []
        unknown: list[float] = []
        for i in range(rounds):
            pair = [("known@example.com", known), ("nobody@example.com", unknown)]
            for address, samples in pair if i % 2 else reversed(pair):
                samples.append(request(address, floor))
        return known, unknown

    def report(name: str, samples: list[float]) -> None:
        ordered = sorted(samples)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        print(f"{name:<44} median {statistics.median(ordered):7.3f} ms   p95 {p95:7.3f} ms")

    both_paths(0, 20)  # warm-up: caches, prepared statements, the key derivation
    print(f"Password-reset benchmark on {engine.dialect.name}")
    for floor, rounds in ((0.0, args.rounds), (ANSWER_FLOOR_SECONDS, max(args.rounds // 5, 20))):
        known, unknown = both_paths(floor, rounds)
        print(f"-- answered no sooner than {floor * 1000:.0f} ms, {rounds} requests per path")
        report("request, address with an account", known)
        report("request, address without one", unknown)
        diff = statistics.median(known) - statistics.median(unknown)
        print(f"{'median difference (known - unknown)':<44} {diff:+7.3f} ms")

    completes: list[float] = []
    for _ in range(min(args.rounds, 30)):
        with session_scope(engine) as s:
            user = s.exec(select(User)).one()
            send_reset_link(s, user=user, actor="bench", clock=clock)
            token = _token_of_last_email(s)
        start = time.perf_counter()
        with session_scope(engine) as s:
            complete_password_reset(s, token=token, new_password="new password!", clock=clock)
        completes.append((time.perf_counter() - start) * 1000)
        clock.advance(seconds=1)
    report("complete a reset (no 2FA)", completes)


def _token_of_last_email(session) -> str:
    from urllib.parse import parse_qs, urlsplit

    from sqlmodel import select

    from core.store.tables import OutboxEmail

    body = session.exec(select(OutboxEmail.body_text).order_by(OutboxEmail.id.desc())).first()
    url = next(word for word in body.split() if "token=" in word)
    return parse_qs(urlsplit(url).query)["token"][0]


if __name__ == "__main__":
    main()
