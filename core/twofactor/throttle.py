"""Throttling of second-factor attempts per account, kept in the database so every process
and session sees the same count (NIST SP 800-63B 5.2.2: rate limiting, lock far below 100).

Policy: the first ``throttle_free_failures`` failures cost nothing; each one after that
doubles a wait (1 s, 2 s, 4 s... up to ``throttle_max_delay_seconds``); failure number
``throttle_lock_after`` locks the second factor for ``throttle_lock_seconds``. A success
clears the count."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.audit import record_event
from core.errors import Throttled
from core.settings import get_settings
from core.store.tables import SecondFactorThrottle, User


def ensure_not_throttled(session: Session, user_id: int, now: datetime) -> None:
    row = session.get(SecondFactorThrottle, user_id, populate_existing=True)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return
    wait = math.ceil((row.blocked_until - now).total_seconds())
    raise Throttled(wait, locked=row.failures >= get_settings().throttle_lock_after)


def _block_after(failures: int) -> timedelta | None:
    settings = get_settings()
    if failures >= settings.throttle_lock_after:
        return timedelta(seconds=settings.throttle_lock_seconds)
    over = failures - settings.throttle_free_failures
    if over <= 0:
        return None
    return timedelta(seconds=min(2 ** (over - 1), settings.throttle_max_delay_seconds))


def record_failure(session: Session, user: User, now: datetime) -> int:
    """Count one failed attempt (atomically) and set the next allowed time; returns the count."""
    if session.get(SecondFactorThrottle, user.id) is None:
        try:
            with session.begin_nested():
                session.add(SecondFactorThrottle(user_id=user.id, failures=0))
        except IntegrityError:
            pass  # another process created the row first; the UPDATE below counts on it
    failures = session.execute(
        update(SecondFactorThrottle)
        .where(SecondFactorThrottle.user_id == user.id)
        .values(failures=SecondFactorThrottle.failures + 1, last_failure_at=now)
        .returning(SecondFactorThrottle.failures)
    ).scalar_one()
    block = _block_after(failures)
    if block is not None:
        session.execute(
            update(SecondFactorThrottle)
            .where(SecondFactorThrottle.user_id == user.id)
            .values(blocked_until=now + block)
        )
    if failures == get_settings().throttle_lock_after:
        record_event(
            session,
            action="2fa.locked",
            actor="system",
            user_id=user.id,
            details={"failures": failures, "seconds": int(block.total_seconds()) if block else 0},
            clock=lambda: now,
        )
    session.expire_all()
    return failures


def clear_failures(session: Session, user_id: int) -> None:
    session.execute(
        update(SecondFactorThrottle)
        .where(SecondFactorThrottle.user_id == user_id)
        .values(failures=0, blocked_until=None)
    )
