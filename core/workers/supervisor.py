"""Run long-running services side by side in one process until SIGTERM or SIGINT: each in
its own thread, restarted with back-off if it fails unexpectedly, each beating its heartbeat
row; on the signal every service stops taking work, finishes or releases what it holds
within ``shutdown_grace_seconds``, marks itself ``stopped`` and the process exits 0."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from core.clock import Clock, system_clock
from core.settings import Settings, get_settings
from core.store.engine import session_scope
from core.workers.faults import Backoff, is_transient_database_error
from core.workers.heartbeats import (
    DEGRADED,
    RUNNING,
    STOPPED,
    WorkerIdentity,
    beat,
    prune_heartbeats,
)

log = logging.getLogger("core.workers")
FORGET_WORKERS_AFTER = timedelta(days=7)
"""Heartbeat rows of workers silent this long are deleted when a worker starts."""


class Service(Protocol):
    """One long-running job (a mail source, the outbox sender)."""

    kind: str
    """Heartbeat kind: ``outbox-sender``, ``resets``, ``smtpd``, ``imap``, ``maildir``."""

    def describe(self) -> str:
        """One phrase for the start-up line (no secret)."""
        ...

    def start(self) -> None:
        """Acquire what must work before the process reports it started (bind a port);
        raise a ``DomainError`` with one clear line if it cannot."""
        ...

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, surviving transient faults; then finish or release
        what is held and return (within the grace period)."""
        ...

    def degraded(self) -> str | None:
        """The dependency that is away right now, if any."""
        ...

    def details(self) -> Mapping[str, Any]:
        """Secret-free figures for the heartbeat row."""
        ...


JOIN_MARGIN_SECONDS = 5.0
"""How long past the grace period the service threads are waited for (a service finishing
its last message when the grace ends) before the exit status says one did not stop."""


class Supervisor:
    """Owns the signals, the service threads and the heartbeats of one process."""

    def __init__(
        self,
        services: Sequence[Service],
        engine: Engine,
        *,
        settings: Settings | None = None,
        clock: Clock = system_clock,
        process_kind: str | None = None,
    ) -> None:
        self.services = list(services)
        self.engine = engine
        self.settings = settings or get_settings()
        self.clock = clock
        self.stop = threading.Event()
        self.identities = {id(s): WorkerIdentity.current(s.kind, clock=clock) for s in services}
        self.process = WorkerIdentity.current(process_kind, clock=clock) if process_kind else None
        self._signals = 0

    # -- signals ---------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            log.info(
                "%s received: finishing work in flight (at most %.0f s), then exiting",
                name,
                self.settings.shutdown_grace_seconds,
            )
            self.stop.set()
            return
        log.warning("second %s: exiting now; held outbox rows return when their lease ends", name)
        os._exit(1)

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    # -- heartbeats ------------------------------------------------------------------

    def _beat_all(self, status: str | None = None) -> None:
        try:
            for service in self.services:
                down = service.degraded()
                details = dict(service.details())
                if down:
                    details["unavailable"] = down
                beat(
                    self.engine,
                    self.identities[id(service)],
                    status=status or (DEGRADED if down else RUNNING),
                    details=details,
                    clock=self.clock,
                )
            if self.process is not None:
                beat(
                    self.engine,
                    self.process,
                    status=status or RUNNING,
                    details={"services": [s.kind for s in self.services]},
                    clock=self.clock,
                )
        except Exception as exc:
            if not is_transient_database_error(exc):
                log.exception("could not record the heartbeat")
            else:  # the services log the outage themselves, once
                log.debug("heartbeat skipped: database unavailable")

    # -- threads ---------------------------------------------------------------------

    def _keep_running(self, service: Service) -> None:
        """``service.run`` until stop; an unexpected error is logged with its traceback and
        the service restarted after a back-off, so one bug does not stop the others. ``run``
        is called at least once, even when the stop came before this thread began: a started
        service releases what ``start`` took (a listening socket, its thread) only there."""
        backoff = Backoff(base=1.0, cap=60.0)
        while True:
            began = time.monotonic()
            try:
                service.run(self.stop)
            except Exception:
                log.exception("%s failed; restarting it", service.kind)
                if time.monotonic() - began > 300:
                    backoff.reset()
                self.stop.wait(backoff.next_delay())
            else:
                if not self.stop.is_set():
                    log.error("%s returned on its own; restarting it", service.kind)
                    self.stop.wait(backoff.next_delay())
            if self.stop.is_set():
                return

    def run(self, *, install_signals: bool = True) -> int:
        """Start every service, beat until stopped, then wait for them; the exit status is
        0 when every service stopped within the grace period."""
        if install_signals:
            self.install_signal_handlers()
        for service in self.services:
            service.start()
        try:
            with session_scope(self.engine) as session:
                prune_heartbeats(session, older_than=FORGET_WORKERS_AFTER, clock=self.clock)
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
        threads = [
            threading.Thread(
                target=self._keep_running, args=(s,), name=f"service-{s.kind}", daemon=True
            )
            for s in self.services
        ]
        log.info(
            "started (pid %d): %s",
            os.getpid(),
            "; ".join(s.describe() for s in self.services) or "nothing enabled",
        )
        for thread in threads:
            thread.start()
        while not self.stop.is_set():
            self._beat_all()
            self.stop.wait(self.settings.heartbeat_seconds)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds + JOIN_MARGIN_SECONDS
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        late = [t.name for t in threads if t.is_alive()]
        self._beat_all(STOPPED)
        if late:
            log.error("did not stop in time: %s", ", ".join(late))
            return 1
        log.info("stopped cleanly")
        return 0
