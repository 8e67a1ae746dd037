"""Sign-in and second-factor check costs on this machine (issue: the 2FA core).

Prints: sign-in latency without and with the second factor, the cost of one TOTP check,
and of one recovery-code check with 16 codes stored, then with 1,000 stored (it must not
grow with the number of codes: the check is one indexed look-up).

    python benchmarks/twofactor.py [--rounds 200] [--db sqlite:///...]
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
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-2fa-")
    os.environ.setdefault("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    os.environ["BACKOFFICE_DATA_DIR"] = workdir

    from sqlmodel import delete

    from core.accounts.users import create_user
    from core.clock import FrozenClock
    from core.store import get_engine, session_scope
    from core.store.tables import RecoveryCode
    from core.twofactor import begin_enrolment, confirm_enrolment, sign_in, verify_totp
    from core.twofactor.recovery_codes import consume_code, replace_codes
    from core.twofactor.totp import code_at_step, time_step

    engine = get_engine(args.db or f"sqlite:///{workdir}/bench.db")
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    password = "benchmark password"
    with session_scope(engine) as s:
        plain = create_user(s, username="plain", email="plain@example.com", password=password)
        twofa = create_user(s, username="twofa", email="twofa@example.com", password=password)
        prov = begin_enrolment(s, user=twofa, clock=clock)
        confirm_enrolment(
            s, user=twofa, pin=code_at_step(prov.secret, time_step(clock())), clock=clock
        )

    def timed(fn, rounds: int) -> list[float]:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        return samples

    def report(name: str, samples: list[float]) -> None:
        samples = sorted(samples)
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{name:<48} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms")

    rounds = args.rounds

    def signin_password_only():
        with session_scope(engine) as s:
            assert sign_in(s, login="plain", password=password).complete

    def signin_with_totp():
        clock.advance(seconds=30)
        pin = code_at_step(prov.secret, time_step(clock()))
        with session_scope(engine) as s:
            assert sign_in(s, login="twofa", password=password, totp_pin=pin, clock=clock).complete

    def totp_check_only():
        clock.advance(seconds=30)
        pin = code_at_step(prov.secret, time_step(clock()))
        with session_scope(engine) as s:
            verify_totp(s, user=twofa, pin=pin, clock=clock)

    print(f"2FA benchmark on {engine.dialect.name}, {rounds} rounds each")
    report("sign-in, password only (argon2id)", timed(signin_password_only, rounds))
    report("sign-in, password + TOTP", timed(signin_with_totp, rounds))
    report("TOTP check (decrypt, HMAC x<=3, step claim)", timed(totp_check_only, rounds))

    for stored in (16, 1000):
        with session_scope(engine) as s:
            s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == twofa.id))
            codes = replace_codes(s, user_id=twofa.id, count=stored, now=clock())

        def recovery_check(spare=iter(codes)):
            with session_scope(engine) as s:
                assert consume_code(s, user_id=twofa.id, code=next(spare), now=clock())

        report(
            f"recovery-code check, {stored} codes stored", timed(recovery_check, min(rounds, 16))
        )
    _ = plain


if __name__ == "__main__":
    main()
