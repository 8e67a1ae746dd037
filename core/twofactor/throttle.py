"""Throttling of second-factor attempts per account, kept in the database so every process
and session sees the same count (NIST SP 800-63B 5.2.2: rate limiting, lock far below 100).

Each attempt first takes the account's throttle row with ``SELECT ... FOR UPDATE`` (SQLite:
the IMMEDIATE transaction), so concurrent guesses are judged one after another, each seeing
the count the previous one left; a failure is committed before its error is raised.

Authenticator codes: the first ``throttle_free_failures`` failures cost nothing; each one
after that doubles a wait (1 s, 2 s, 4 s... up to ``throttle_max_delay_seconds``); failure
number ``throttle_lock_after`` locks them for ``throttle_lock_seconds``. Recovery codes
(80 random bits each) have their own stricter count, a wait from ``recovery_delay_seconds``
doubling up to ``recovery_max_delay_seconds`` that never locks: someone failing codes can
slow the owner down but never shut them out. The first throttled failure of a streak
emails the owner (their password is known to someone); a success clears everything."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from core.audit import record_event
from core.errors import Throttled
from core.settings import get_settings
from core.store.tables import SecondFactorThrottle, User
from core.twofactor.notifications import security_event

Kind = Literal["totp", "recovery"]
WARNING_TEMPLATE = "second_factor_failures"


M = TypeVar("M", bound=SQLModel)


def locked_row(session: Session, model: type[M], key: dict[str, Any], **defaults: Any) -> M:
    """``model``'s row for ``key``, created (with ``defaults``) if missing and locked until
    the transaction ends (``FOR UPDATE``; on SQLite the IMMEDIATE transaction already
    serializes writers)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(model.__table__).values(**key, **defaults)
    session.execute(insert.on_conflict_do_nothing())
    conditions = [getattr(model, name) == value for name, value in key.items()]
    return session.execute(
        select(model).where(*conditions).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def begin_attempt(session: Session, user_id: int, now: datetime, kind: Kind = "totp") -> None:
    """Lock the account's throttle row and raise ``Throttled`` if an attempt of ``kind``
    must wait; else the caller checks the code and records the outcome in this transaction."""
    row = locked_row(session, SecondFactorThrottle, {"user_id": user_id}, failures=0)
    until = row.recovery_blocked_until if kind == "recovery" else row.blocked_until
    if until is None or until <= now:
        return
    wait = math.ceil((until - now).total_seconds())
    locked = kind == "totp" and row.failures >= get_settings().throttle_lock_after
    raise Throttled(wait, locked=locked)


ensure_not_throttled = begin_attempt
"""The name callers used before attempts took the row lock."""


def _totp_block(failures: int) -> timedelta | None:
    settings = get_settings()
    if failures >= settings.throttle_lock_after:
        return timedelta(seconds=settings.throttle_lock_seconds)
    over = failures - settings.throttle_free_failures
    if over <= 0:
        return None
    return timedelta(seconds=min(2 ** (over - 1), settings.throttle_max_delay_seconds))


def _recovery_block(failures: int) -> timedelta | None:
    settings = get_settings()
    over = failures - settings.recovery_free_failures
    if over <= 0:
        return None
    seconds = settings.recovery_delay_seconds * 2 ** min(over - 1, 20)
    return timedelta(seconds=min(seconds, settings.recovery_max_delay_seconds))


def record_failure(session: Session, user: User, now: datetime, kind: Kind = "totp") -> int:
    """Count one failed attempt of ``kind`` and set when the next may come; returns the
    count. Call after ``begin_attempt`` in the same transaction, then commit."""
    table = SecondFactorThrottle
    column = table.recovery_failures if kind == "recovery" else table.failures
    failures = session.execute(
        update(table)
        .where(table.user_id == user.id)
        .values({column: column + 1, table.last_failure_at: now})
        .returning(column)
    ).scalar_one()
    block = _recovery_block(failures) if kind == "recovery" else _totp_block(failures)
    if block is not None:
        until = table.recovery_blocked_until if kind == "recovery" else table.blocked_until
        session.execute(update(table).where(table.user_id == user.id).values({until: now + block}))
        _warn_owner(session, user, now, kind=kind, failures=failures)
    if kind == "totp" and failures == get_settings().throttle_lock_after:
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


def _warn_owner(session: Session, user: User, now: datetime, *, kind: Kind, failures: int) -> None:
    """Email the owner once per streak of failures: whoever is failing knows the password."""
    first = session.execute(
        update(SecondFactorThrottle)
        .where(
            SecondFactorThrottle.user_id == user.id, SecondFactorThrottle.owner_warned_at.is_(None)
        )
        .values(owner_warned_at=now)
    )
    if first.rowcount != 1:
        return
    security_event(
        session,
        user=user,
        action="2fa.failures_warned",
        actor="system",
        email_template=WARNING_TEMPLATE,
        details={"failures": failures, "kind": kind},
        clock=lambda: now,
    )


def clear_failures(session: Session, user_id: int) -> None:
    """A success: every count, wait and warning of the account starts over."""
    session.execute(
        update(SecondFactorThrottle)
        .where(SecondFactorThrottle.user_id == user_id)
        .values(
            failures=0,
            blocked_until=None,
            recovery_failures=0,
            recovery_blocked_until=None,
            owner_warned_at=None,
        )
    )
