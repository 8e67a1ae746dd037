"""Two-step sign-in, replay protection, single-use recovery codes and throttling."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from core.errors import InvalidCode, InvalidCredentials, Throttled
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail
from core.twofactor import sign_in, sign_in_password, sign_in_second_factor, two_factor_status
from tests.core.twofactor.conftest import PASSWORD


def test_password_errors_do_not_reveal_which_part_is_wrong(engine, user):
    with session_scope(engine) as s:
        with pytest.raises(InvalidCredentials) as unknown:
            sign_in_password(s, login="nobody", password=PASSWORD)
        with pytest.raises(InvalidCredentials) as wrong:
            sign_in_password(s, login="alice", password="not the password")
    assert str(unknown.value) == str(wrong.value)


def test_without_2fa_password_is_enough(engine, user):
    with session_scope(engine) as s:
        result = sign_in_password(s, login="ALICE", password=PASSWORD)
    assert result.complete and result.method == "password"


def test_second_factor_required_then_totp_completes(engine, enrolled, clock):
    with session_scope(engine) as s:
        first = sign_in(s, login="alice", password=PASSWORD, clock=clock)
        assert not first.complete
        second = sign_in_second_factor(
            s, user=first.user, totp_pin=enrolled.pin(clock), clock=clock
        )
        assert second.complete and second.method == "totp"


def test_each_time_step_is_accepted_once(engine, enrolled, clock):
    pin = enrolled.pin(clock)
    with session_scope(engine) as s:
        assert sign_in(s, login="alice", password=PASSWORD, totp_pin=pin, clock=clock).complete
    with session_scope(engine) as s, pytest.raises(InvalidCode, match="already used"):
        sign_in(s, login="alice", password=PASSWORD, totp_pin=pin, clock=clock)
    with session_scope(engine) as s, pytest.raises(InvalidCode, match="already used"):
        sign_in(
            s, login="alice", password=PASSWORD, totp_pin=" " + pin[:3] + " " + pin[3:], clock=clock
        )
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        sign_in(s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock, -1), clock=clock)
    clock.advance(seconds=30)
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock), clock=clock
        ).complete


def test_previous_and_next_step_accepted(engine, enrolled, clock):
    clock.advance(seconds=60)  # well past the step the confirm pin spent
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock, -1), clock=clock
        ).complete
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock, 1), clock=clock
        ).complete
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        sign_in(s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock, 2), clock=clock)


def test_recovery_code_signs_in_once_and_reports_what_is_left(engine, enrolled, clock):
    code = enrolled.codes[3]
    with session_scope(engine) as s:
        result = sign_in(
            s, login="alice", password=PASSWORD, recovery_code=code.upper(), clock=clock
        )
    assert result.complete and result.method == "recovery_code"
    assert result.recovery.remaining == 15 and not result.recovery.low
    with session_scope(engine) as s, pytest.raises(InvalidCode, match="already used"):
        sign_in(s, login="alice", password=PASSWORD, recovery_code=code, clock=clock)
    with session_scope(engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.recovery_code_used")).one()
        assert s.exec(select(OutboxEmail).where(OutboxEmail.template == "recovery_code_used")).one()


def test_low_count_is_warned_about(engine, enrolled, clock):
    for code in enrolled.codes[:13]:
        with session_scope(engine) as s:
            result = sign_in(s, login="alice", password=PASSWORD, recovery_code=code, clock=clock)
    assert result.recovery.remaining == 3 and result.recovery.low
    with session_scope(engine) as s:
        assert two_factor_status(s, enrolled.user).low_on_codes


def test_concurrent_use_of_one_recovery_code_succeeds_once(engine, enrolled, clock):
    code = enrolled.codes[0]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt():
        barrier.wait()
        try:
            with session_scope(engine) as s:
                sign_in_second_factor(s, user=enrolled.user, recovery_code=code, clock=clock)
            outcomes.append("ok")
        except InvalidCode:
            outcomes.append("refused")
        except DBAPIError as exc:  # a database that refuses instead of waiting is a failure
            outcomes.append(f"error: {exc}")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]


def test_throttle_backs_off_then_locks_and_success_clears(
    engine, enrolled, clock, isolated_settings
):
    def fail_once():
        with session_scope(engine) as s, pytest.raises(InvalidCode):
            sign_in(s, login="alice", password=PASSWORD, totp_pin="000000", clock=clock)

    for _ in range(3):
        fail_once()  # free failures
    fail_once()
    with session_scope(engine) as s, pytest.raises(Throttled) as throttled:
        sign_in(s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock), clock=clock)
    assert throttled.value.retry_after_seconds == 1 and not throttled.value.locked
    for _ in range(6):  # failures 5 to 10, each after its wait; the 10th locks
        clock.advance(seconds=isolated_settings.throttle_max_delay_seconds)
        fail_once()
    clock.advance(seconds=isolated_settings.throttle_max_delay_seconds)
    with session_scope(engine) as s, pytest.raises(Throttled) as locked:
        sign_in(s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock), clock=clock)
    assert locked.value.locked
    with session_scope(engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.locked")).one()
    clock.advance(seconds=isolated_settings.throttle_lock_seconds)
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, totp_pin=enrolled.pin(clock), clock=clock
        ).complete
    fail_once()  # the count restarted from zero after the success: no wait
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, recovery_code=enrolled.codes[1], clock=clock
        ).complete


def test_audit_log_is_append_only(engine, enrolled):
    with pytest.raises(DBAPIError), session_scope(engine) as s:
        s.execute(update(AuditEvent).values(actor="someone else"))
    with session_scope(engine) as s:
        assert s.exec(select(AuditEvent)).all()[0].actor == "user:alice"


def test_lock_is_well_under_one_hundred(isolated_settings):
    assert isolated_settings.throttle_lock_after < 100
    assert timedelta(seconds=isolated_settings.throttle_lock_seconds) >= timedelta(minutes=15)
