"""Live queue figures (not a date range): the outbox by status with its oldest waiting
email, quarantined mail with its oldest message, and second-factor lockouts. Each is one or
two aggregate statements; ``outbox status``, ``health`` and ``stats`` all read them here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.settings import get_settings
from core.store.tables.inbound import InboundMessage
from core.store.tables.outbox import OutboxEmail

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")
WAITING = ("queued", "sending")


def _age(now: datetime, then: datetime | None) -> timedelta | None:
    return None if then is None else max(now - then, timedelta(0))


@dataclass(frozen=True)
class OutboxQueue:
    """Emails per status; ``oldest_waiting_age`` is how long the oldest queued or sending
    email has waited since it was written (None when nothing waits)."""

    counts: dict[str, int]
    oldest_waiting_age: timedelta | None

    @property
    def waiting(self) -> int:
        return sum(self.counts[s] for s in WAITING)


def outbox_queue(session: Session, *, clock: Clock = system_clock) -> OutboxQueue:
    rows = dict(
        session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()
    )
    oldest = session.execute(
        select(func.min(OutboxEmail.created_at)).where(OutboxEmail.status.in_(WAITING))
    ).scalar_one()
    counts = {status: int(rows.get(status, 0)) for status in OUTBOX_STATUSES}
    return OutboxQueue(counts, _age(clock(), oldest))


@dataclass(frozen=True)
class Quarantine:
    """Mail kept raw because it could not be parsed, waiting for a person."""

    count: int
    oldest_age: timedelta | None


def quarantine(session: Session, *, clock: Clock = system_clock) -> Quarantine:
    count, oldest = session.execute(
        select(func.count(), func.min(InboundMessage.received_at)).where(
            InboundMessage.status == "quarantined"
        )
    ).one()
    return Quarantine(int(count), _age(clock(), oldest))


@dataclass(frozen=True)
class Lockouts:
    """Accounts whose second factor is waiting out a throttle now, and those of them locked
    (the failure count reached ``throttle_lock_after``)."""

    throttled: int
    locked: int


def lockouts(session: Session, *, clock: Clock = system_clock) -> Lockouts:
    from core.store.tables.twofactor import SecondFactorThrottle  # health reads no lockouts

    now = clock()
    lock_after = get_settings().throttle_lock_after
    throttled, locked = session.execute(
        select(
            func.count(),
            func.count().filter(SecondFactorThrottle.failures >= lock_after),
        ).where(SecondFactorThrottle.blocked_until > now)
    ).one()
    return Lockouts(int(throttled), int(locked))
