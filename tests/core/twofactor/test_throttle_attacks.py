"""The throttles under attack (issue #10 items 11 and 12, issue #14 item 2): concurrent
guesses are judged one after another on PostgreSQL as on SQLite; the password step is
throttled per account and per client and audited, without a permanent lock; a locked
authenticator leaves the owner's recovery codes usable, and the owner is told."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from core.errors import InvalidCode, InvalidCredentials, Throttled
from core.staff import create_staff, staff_sign_in_password
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, SecondFactorThrottle
from core.twofactor import sign_in_password, sign_in_second_factor
from tests.core.twofactor.conftest import PASSWORD

GUESSERS = 50


def race(engine, attempt, n: int = GUESSERS) -> Counter:
    """``n`` threads, each with its own session, released together; outcome names counted."""
    barrier = threading.Barrier(n)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                attempt(s)
            result = "ok"
        except Exception as exc:  # every outcome is counted by its type
            result = type(exc).__name__
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_wrong_codes_are_judged_serially(engine, enrolled, clock, isolated_settings):
    outcomes = race(
        engine,
        lambda s: sign_in_second_factor(s, user=enrolled.user, totp_pin="000000", clock=clock),
    )
    judged = isolated_settings.throttle_free_failures + 1
    assert outcomes == Counter({"InvalidCode": judged, "Throttled": GUESSERS - judged})
    with session_scope(engine) as s:
        assert s.get(SecondFactorThrottle, enrolled.user.id).failures == judged


def test_concurrent_wrong_passwords_are_judged_serially(engine, user, clock, isolated_settings):
    outcomes = race(
        engine,
        lambda s: sign_in_password(s, login="alice", password="wrong guess", clock=clock),
        n=20,
    )
    judged = isolated_settings.password_free_failures + 1
    assert outcomes == Counter({"InvalidCredentials": judged, "Throttled": 20 - judged})


def test_25_wrong_staff_passwords_then_the_right_one_must_wait(engine, clock, isolated_settings):
    with session_scope(engine) as s:
        create_staff(s, username="ann", email="ann@x.org", role="admin", password=PASSWORD)
    refused = Counter()
    for _ in range(25):
        try:
            with session_scope(engine) as s:
                staff_sign_in_password(s, login="ann", password="guess", client="10.0.0.9")
        except (InvalidCredentials, Throttled) as exc:
            refused[type(exc).__name__] += 1
    assert refused == Counter({"InvalidCredentials": 6, "Throttled": 19})
    with pytest.raises(Throttled, match="passwords"), session_scope(engine) as s:
        staff_sign_in_password(s, login="ann", password=PASSWORD, client="10.0.0.9", clock=clock)
    with session_scope(engine) as s:
        failed = s.exec(select(AuditEvent).where(AuditEvent.action == "signin.password_failed"))
        assert len(failed.all()) == 6


def test_the_password_wait_is_bounded_and_a_success_clears_it(
    engine, user, clock, isolated_settings
):
    for _ in range(40):
        clock.advance(seconds=isolated_settings.password_max_delay_seconds)
        with pytest.raises(InvalidCredentials), session_scope(engine) as s:
            sign_in_password(s, login="alice", password="wrong", clock=clock)
    with pytest.raises(Throttled) as waiting, session_scope(engine) as s:
        sign_in_password(s, login="alice", password=PASSWORD, clock=clock)
    assert waiting.value.retry_after_seconds <= isolated_settings.password_max_delay_seconds
    clock.advance(seconds=isolated_settings.password_max_delay_seconds)
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password=PASSWORD, clock=clock).user.id
    with pytest.raises(InvalidCredentials), session_scope(engine) as s:  # no wait: cleared
        sign_in_password(s, login="alice", password="wrong", clock=clock)


def test_one_client_guessing_many_accounts_is_throttled(engine, clock, isolated_settings):
    free = isolated_settings.password_client_free_failures
    for n in range(free + 1):
        with pytest.raises(InvalidCredentials), session_scope(engine) as s:
            sign_in_password(s, login=f"user{n}", password="x", client="203.0.113.7", clock=clock)
    with pytest.raises(Throttled) as waiting, session_scope(engine) as s:
        sign_in_password(s, login="someone-else", password="x", client="203.0.113.7", clock=clock)
    # The wait is the client's: the answer must not blame an account it never tried.
    assert str(waiting.value).startswith("Sign-in is throttled after failed passwords; try")
    with pytest.raises(InvalidCredentials), session_scope(engine) as s:  # other clients: free
        sign_in_password(s, login="someone-else", password="x", client="198.51.100.1", clock=clock)


def test_unknown_and_known_logins_are_throttled_alike(engine, user, clock, isolated_settings):
    for login in ("alice", "no-such-account"):
        outcomes = Counter()
        for _ in range(isolated_settings.password_free_failures + 2):
            try:
                with session_scope(engine) as s:
                    sign_in_password(s, login=login, password="wrong", clock=clock)
            except (InvalidCredentials, Throttled) as exc:
                outcomes[type(exc).__name__] += 1
        assert outcomes == Counter(
            {"InvalidCredentials": isolated_settings.password_free_failures + 1, "Throttled": 1}
        )


def wrong_code(engine, enrolled, clock):
    with session_scope(engine) as s:
        sign_in_second_factor(s, user=enrolled.user, totp_pin="000000", clock=clock)


def test_one_wrong_code_an_hour_does_not_shut_the_owner_out(
    engine, enrolled, clock, isolated_settings
):
    for _ in range(isolated_settings.throttle_lock_after):
        clock.advance(seconds=isolated_settings.throttle_max_delay_seconds)
        with pytest.raises(InvalidCode):
            wrong_code(engine, enrolled, clock)
    for _ in range(5):  # the attacker keeps the authenticator locked, one code an hour
        clock.advance(seconds=isolated_settings.throttle_lock_seconds)
        with pytest.raises(InvalidCode):
            wrong_code(engine, enrolled, clock)
        with pytest.raises(Throttled) as locked, session_scope(engine) as s:
            sign_in_second_factor(s, user=enrolled.user, totp_pin=enrolled.pin(clock), clock=clock)
        assert locked.value.locked
    with session_scope(engine) as s:  # ...and the owner still signs in with a recovery code
        result = sign_in_second_factor(
            s, user=enrolled.user, recovery_code=enrolled.codes[0], clock=clock
        )
    assert result.complete and result.method == "recovery_code"


def test_recovery_codes_wait_longer_but_never_lock(engine, enrolled, clock, isolated_settings):
    outcomes = Counter()
    for _ in range(30):
        try:
            with session_scope(engine) as s:
                sign_in_second_factor(
                    s, user=enrolled.user, recovery_code="aaaa-bbbb-cccc-dddd", clock=clock
                )
        except (InvalidCode, Throttled) as exc:
            outcomes[type(exc).__name__] += 1
            assert not getattr(exc, "locked", False)
        clock.advance(seconds=10)
    assert outcomes["InvalidCode"] == 7  # in 300 s: 3 free, then after 30, 60, 120 s waits
    clock.advance(seconds=isolated_settings.recovery_max_delay_seconds)
    with session_scope(engine) as s:
        assert sign_in_second_factor(
            s, user=enrolled.user, recovery_code=enrolled.codes[0], clock=clock
        ).complete


def test_the_owner_is_emailed_once_per_streak_of_failures(
    engine, enrolled, clock, isolated_settings
):
    def warnings() -> list[OutboxEmail]:
        with session_scope(engine) as s:
            rows = s.exec(
                select(OutboxEmail).where(OutboxEmail.template == "second_factor_failures")
            )
            return rows.all()

    for _ in range(isolated_settings.throttle_free_failures):
        with pytest.raises(InvalidCode):
            wrong_code(engine, enrolled, clock)
    assert warnings() == []
    for _ in range(3):
        clock.advance(seconds=isolated_settings.throttle_max_delay_seconds)
        with pytest.raises(InvalidCode):
            wrong_code(engine, enrolled, clock)
    (warning,) = warnings()
    assert warning.to_addr == enrolled.user.email
    assert "change your password" in warning.body_text and "recovery codes" in warning.body_text
    clock.advance(seconds=isolated_settings.throttle_max_delay_seconds)
    with session_scope(engine) as s:
        sign_in_second_factor(s, user=enrolled.user, totp_pin=enrolled.pin(clock), clock=clock)
    for _ in range(isolated_settings.throttle_free_failures + 1):  # a new streak: a new email
        with pytest.raises(InvalidCode):
            wrong_code(engine, enrolled, clock)
    assert len(warnings()) == 2
