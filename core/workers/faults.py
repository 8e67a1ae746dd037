"""Transient faults of a long-running process: which exceptions mean "a dependency is away
for a while" (database restart, lock held past the busy timeout, SMTP or IMAP server down),
how long to wait before the next try, and logging each kind of outage once, with one line
when the dependency is back."""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, TimeoutError

SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")
"""SQLite reports a syntax error as an OperationalError too; only these mean "wait"."""


def is_transient_database_error(exc: BaseException) -> bool:
    """An outage, a dropped connection, a full pool or a lock held past the busy timeout; not
    a constraint or a mistake in SQL (those are bugs or bad data, and retrying them would
    only repeat them)."""
    if isinstance(exc, DisconnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, sqlite3.OperationalError):
        return any(word in str(exc).lower() for word in SQLITE_TRANSIENT)
    return isinstance(exc, OperationalError) or type(exc).__name__ == "OperationalError"


def fault_kind(exc: BaseException) -> str:
    """A short, secret-free name for the failure, so a repeat of the same one logs nothing."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "database is locked" in text:
        return "database is locked"
    # a restart shows as AdminShutdown, then "connection refused": one kind of outage
    for cls in type(exc).__mro__:
        if cls.__name__ == "OperationalError":
            return "OperationalError"
    return type(exc).__name__


@dataclass
class Backoff:
    """Exponential back-off with full jitter between ``base`` and ``cap`` seconds, so a
    fleet that lost its database does not come back in lock step."""

    base: float = 0.5
    cap: float = 10.0
    failures: int = 0

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** (self.failures - 1))
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Dependency:
    """One thing a worker needs (``database``, ``SMTP relay``...): logs the first failure of
    each kind as a warning, repeats at DEBUG, and one INFO line when it works again."""

    name: str
    log: logging.Logger
    backoff: Backoff = field(default_factory=Backoff)
    down_since: float | None = None
    _kinds: set[str] = field(default_factory=set)

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> float:
        """Record a failure; returns how long to wait before trying again."""
        kind = fault_kind(exc)
        if self.down_since is None:
            self.down_since = time.monotonic()
        delay = self.backoff.next_delay()
        if kind in self._kinds:
            self.log.debug("%s still unavailable (%s), retrying in %.1f s", self.name, kind, delay)
        else:
            self._kinds.add(kind)
            self.log.warning(
                "%s unavailable (%s: %s); retrying with back-off, logged once until it is back",
                self.name,
                kind,
                _first_line(exc),
            )
        return delay

    def ok(self) -> None:
        if self.down_since is None:
            return
        self.log.info(
            "%s is back after %.1f s (%d failed tries)",
            self.name,
            time.monotonic() - self.down_since,
            self.backoff.failures,
        )
        self.down_since = None
        self._kinds.clear()
        self.backoff.reset()


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
