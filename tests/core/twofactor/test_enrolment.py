"""Enabling, regenerating, removing and resetting 2FA."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.errors import InvalidCode, InvalidCredentials, Throttled, TwoFactorStateError
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, RecoveryCode, TotpRegistration
from core.twofactor import (
    begin_enrolment,
    confirm_enrolment,
    disable_two_factor,
    pending_provisioning,
    regenerate_recovery_codes,
    reset_two_factor,
    sign_in,
    sign_in_password,
    two_factor_status,
)
from core.twofactor.recovery_codes import ALPHABET, normalize_code
from core.twofactor.totp import code_at_step, time_step
from tests.core.twofactor.conftest import PASSWORD


def test_pending_enrolment_changes_nothing(engine, user, clock):
    with session_scope(engine) as s:
        begin_enrolment(s, user=user, clock=clock)
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password=PASSWORD).complete
        status = two_factor_status(s, user)
        assert (status.enabled, status.pending) == (False, True)


def test_wrong_pin_keeps_enrolment_open_and_right_pin_turns_it_on(engine, user, clock):
    with session_scope(engine) as s:
        prov = begin_enrolment(s, user=user, clock=clock)
    right = code_at_step(prov.secret, time_step(clock()))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        confirm_enrolment(s, user=user, pin=wrong, clock=clock)
    with session_scope(engine) as s:
        assert pending_provisioning(s, user=user).secret == prov.secret
        codes = confirm_enrolment(s, user=user, pin=right, clock=clock)
    assert len(codes.codes) == 16 and len(set(codes.codes)) == 16
    with session_scope(engine) as s:
        assert not sign_in_password(s, login="alice@example.com", password=PASSWORD).complete
        assert two_factor_status(s, user).recovery_codes_left == 16
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.user_id == user.id)).all()
        assert "2fa.enabled" in actions
        mails = s.exec(select(OutboxEmail).where(OutboxEmail.user_id == user.id)).all()
        assert [m.template for m in mails] == ["two_factor_enabled"]
        assert mails[0].to_addr == "alice@example.com"


def test_enrolment_refused_when_already_on(engine, enrolled, clock):
    with session_scope(engine) as s, pytest.raises(TwoFactorStateError):
        begin_enrolment(s, user=enrolled.user, clock=clock)


def test_recovery_codes_are_80_bits_and_readable(enrolled):
    for code in enrolled.codes:
        normalized = normalize_code(code)
        assert len(normalized) == 16 and set(normalized) <= set(ALPHABET)
    assert len(ALPHABET) ** 16 >= 2**64
    messy = " " + enrolled.codes[0].upper().replace("-", " ") + " "
    assert normalize_code(messy) == normalize_code(enrolled.codes[0])


def test_codes_file_says_what_it_is(engine, user, clock):
    with session_scope(engine) as s:
        prov = begin_enrolment(s, user=user, clock=clock)
        codes = confirm_enrolment(
            s, user=user, pin=code_at_step(prov.secret, time_step(clock())), clock=clock
        )
    text = codes.file_text()
    assert codes.file_name == "huggingface-recovery-codes.txt"
    assert "Account:   alice" in text and "2026-11-28" in text
    assert "recovery code" in text.lower()
    assert all(code in text for code in codes.codes)


def test_regenerate_kills_every_old_code(engine, enrolled, clock):
    with session_scope(engine) as s:
        new = regenerate_recovery_codes(s, user=enrolled.user, pin=enrolled.pin(clock), clock=clock)
    assert not set(new.codes) & set(enrolled.codes)
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        sign_in(s, login="alice", password=PASSWORD, recovery_code=enrolled.codes[0], clock=clock)
    with session_scope(engine) as s:
        assert sign_in(
            s, login="alice", password=PASSWORD, recovery_code=new.codes[0], clock=clock
        ).complete
        templates = s.exec(
            select(OutboxEmail.template).where(OutboxEmail.user_id == enrolled.user.id)
        ).all()
        assert "recovery_codes_regenerated" in templates


def test_regenerate_needs_a_current_code(engine, enrolled, clock):
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        regenerate_recovery_codes(s, user=enrolled.user, pin="000000", clock=clock)
    with session_scope(engine) as s:
        assert two_factor_status(s, enrolled.user).recovery_codes_left == 16


def test_disable_needs_password_and_code_and_clears_everything(engine, enrolled, clock):
    with session_scope(engine) as s, pytest.raises(InvalidCredentials):
        disable_two_factor(
            s, user=enrolled.user, password="wrong password", pin=enrolled.pin(clock), clock=clock
        )
    with session_scope(engine) as s, pytest.raises(InvalidCode):
        disable_two_factor(s, user=enrolled.user, password=PASSWORD, pin="123456", clock=clock)
    with session_scope(engine) as s:
        disable_two_factor(
            s, user=enrolled.user, password=PASSWORD, pin=enrolled.pin(clock), clock=clock
        )
    with session_scope(engine) as s:
        assert s.get(TotpRegistration, enrolled.user.id) is None
        assert (
            s.exec(select(RecoveryCode).where(RecoveryCode.user_id == enrolled.user.id)).all() == []
        )
        assert sign_in_password(s, login="alice", password=PASSWORD).complete
        templates = s.exec(
            select(OutboxEmail.template).where(OutboxEmail.user_id == enrolled.user.id)
        ).all()
        assert "two_factor_disabled" in templates


def test_support_reset_clears_everything_and_tells_the_owner(engine, enrolled, clock):
    with session_scope(engine) as s:
        reset_two_factor(s, user=enrolled.user, actor="staff:bob", ticket_id=None, clock=clock)
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password=PASSWORD).complete
        assert two_factor_status(s, enrolled.user).recovery_codes_left == 0
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "2fa.reset_by_support")).one()
        assert event.actor == "staff:bob"
        templates = s.exec(
            select(OutboxEmail.template).where(OutboxEmail.user_id == enrolled.user.id)
        ).all()
        assert "two_factor_reset" in templates


def test_wrong_passwords_at_removal_are_throttled_like_sign_in(
    engine, enrolled, clock, isolated_settings
):
    """A session someone else holds must not be a way to guess the password at leisure:
    removal's password goes through the sign-in's throttle, and its failures count there."""
    for _ in range(isolated_settings.password_free_failures + 1):
        with session_scope(engine) as s, pytest.raises(InvalidCredentials):
            disable_two_factor(
                s, user=enrolled.user, password="guess", pin=enrolled.pin(clock), clock=clock
            )
    with session_scope(engine) as s, pytest.raises(Throttled):
        disable_two_factor(
            s,
            user=enrolled.user,
            password=PASSWORD,
            pin=enrolled.pin(clock),
            client="web:203.0.113.7",
            clock=clock,
        )
    with session_scope(engine) as s, pytest.raises(Throttled):
        sign_in_password(s, login="alice", password=PASSWORD, clock=clock)
    with session_scope(engine) as s:
        assert two_factor_status(s, enrolled.user).enabled
