"""Accounts with and without 2FA, for the 2FA core tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.accounts.users import create_user
from core.encryption import decrypt_secret
from core.store import session_scope
from core.store.tables import TotpRegistration, User
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.totp import code_at_step, time_step

PASSWORD = "correct horse battery"


@dataclass
class Enrolled:
    user: User
    secret: str
    codes: list[str]

    def pin(self, clock, offset_steps: int = 0) -> str:
        return code_at_step(self.secret, time_step(clock()) + offset_steps)


@pytest.fixture
def user(engine, clock):
    with session_scope(engine) as s:
        return create_user(
            s, username="alice", email="alice@example.com", password=PASSWORD, clock=clock
        )


@pytest.fixture
def enrolled(engine, user, clock) -> Enrolled:
    """alice with 2FA on; the clock is moved one step on so the confirm pin's step is spent."""
    with session_scope(engine) as s:
        prov = begin_enrolment(s, user=user, clock=clock)
    with session_scope(engine) as s:
        codes = confirm_enrolment(
            s, user=user, pin=code_at_step(prov.secret, time_step(clock())), clock=clock
        )
    with session_scope(engine) as s:
        assert decrypt_secret(s.get(TotpRegistration, user.id).secret_encrypted) == prov.secret
    clock.advance(seconds=30)
    return Enrolled(user=user, secret=prov.secret, codes=codes.codes)
