"""The services a worker process can run (see ``Supervisor``): the outbox sender, the SMTP
receiver, an IMAP folder and a Maildir, each built from settings or command-line options.
Every one survives transient faults on its own and stops within the grace period."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from core.clock import Clock, system_clock
from core.errors import InvalidInput
from core.inbound.pipeline import SourceMessage, ingest_messages
from core.inbound.report import IngestReport
from core.inbound.sources.files import is_maildir, maildir_messages
from core.inbound.sources.imap import ImapConfig, ImapSource
from core.inbound.sources.smtp import InboundHandler, start_receiver, stop_receiver
from core.mail.sender import OutboxSender
from core.settings import Settings, get_settings
from core.workers.faults import Backoff, Dependency, is_transient_database_error
from core.workers.supervisor import Service, log


class OutboxService:
    kind = "outbox-sender"

    def __init__(
        self,
        engine: Engine,
        *,
        settings: Settings | None = None,
        clock: Clock = system_clock,
        poll_seconds: float | None = None,
    ):
        self.settings = settings or get_settings()
        self.sender = OutboxSender(engine, settings=self.settings, clock=clock)
        self.poll_seconds = poll_seconds

    def describe(self) -> str:
        s = self.settings
        return (
            f"outbox sender ({self.sender.connections} connections to {s.smtp_host}:{s.smtp_port})"
        )

    def start(self) -> None:
        pass

    def run(self, stop: threading.Event) -> None:
        self.sender.run(stop, poll_seconds=self.poll_seconds)

    def degraded(self) -> str | None:
        return self.sender.degraded

    def details(self) -> Mapping[str, Any]:
        t = self.sender.totals
        return {"sent": t.sent, "retrying": t.retrying, "failed": t.failed}


class SmtpReceiverService:
    kind = "smtpd"

    def __init__(
        self,
        engine: Engine,
        *,
        host: str,
        port: int,
        settings: Settings | None = None,
        clock: Clock = system_clock,
    ):
        self.engine, self.host, self.port, self.clock = engine, host, port, clock
        self.settings = settings or get_settings()
        self.handler = InboundHandler(engine, clock=clock)
        self.controller: Controller | None = None

    def describe(self) -> str:
        return f"SMTP receiver on {self.host}:{self.port}"

    def start(self) -> None:
        try:
            self.controller = start_receiver(
                self.engine, host=self.host, port=self.port, handler=self.handler
            )
        except OSError as exc:
            raise InvalidInput(
                f"Cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None

    def run(self, stop: threading.Event) -> None:
        if self.controller is None:
            self.start()
        stop.wait()
        if self.controller is not None:
            stop_receiver(self.controller, grace=self.settings.shutdown_grace_seconds)
            self.controller = None

    def degraded(self) -> str | None:
        return self.handler.database.name if self.handler.database.down else None

    def details(self) -> Mapping[str, Any]:
        return {"accepted": self.handler.accepted, "deferred": self.handler.deferred}


class ImapService:
    kind = "imap"

    def __init__(
        self,
        engine: Engine,
        config: ImapConfig,
        *,
        interval: float,
        batch_size: int = 50,
        clock: Clock = system_clock,
    ):
        self.source = ImapSource(config, engine, clock=clock)
        self.interval = interval
        self.batch_size = batch_size
        self.report = IngestReport()

    def describe(self) -> str:
        return f"IMAP {self.source.config.mailbox_key} every {self.interval:g} s"

    def start(self) -> None:
        pass

    def run(self, stop: threading.Event) -> None:
        self.source.watch(self.interval, batch_size=self.batch_size, report=self.report, stop=stop)

    def degraded(self) -> str | None:
        return self.source.unavailable

    def details(self) -> Mapping[str, Any]:
        return {"mailbox": self.source.config.mailbox_key, "seen": self.report.seen}


class MaildirService:
    """Ingests what arrives in a Maildir's ``new/`` (moved to ``cur/`` after the commit)."""

    kind = "maildir"

    def __init__(self, engine: Engine, path: Path, *, interval: float, clock: Clock = system_clock):
        self.engine, self.path, self.interval, self.clock = engine, path, interval, clock
        self.database = Dependency("database", log, Backoff(base=1.0, cap=max(interval, 1.0)))
        self.report = IngestReport()

    def describe(self) -> str:
        return f"Maildir {self.path} every {self.interval:g} s"

    def start(self) -> None:
        if not is_maildir(self.path):
            raise InvalidInput(f"{self.path} is not a Maildir (it needs new/, cur/ and tmp/).")

    def _until(self, stop: threading.Event) -> Iterator[SourceMessage]:
        for message in maildir_messages(self.path):
            if stop.is_set():
                return
            yield message

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ingest_messages(
                    self.engine, self._until(stop), clock=self.clock, report=self.report
                )
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                stop.wait(self.database.failed(exc))
                continue
            self.database.ok()
            stop.wait(self.interval)

    def degraded(self) -> str | None:
        return self.database.name if self.database.down else None

    def details(self) -> Mapping[str, Any]:
        return {"path": str(self.path), "seen": self.report.seen}


class ResetsService:
    """Applies approved 2FA resets once their cooling-off ends; any number of these may run
    against one database (each reset is applied once, by a conditional UPDATE)."""

    kind = "resets"

    def __init__(
        self, engine: Engine, *, interval: float, batch_size: int = 100, clock: Clock = system_clock
    ):
        self.engine, self.interval, self.clock = engine, interval, clock
        self.batch_size = batch_size
        self.database = Dependency("database", log, Backoff(base=1.0, cap=max(interval, 1.0)))
        self.applied = 0

    def describe(self) -> str:
        return f"2FA resets due, every {self.interval:g} s"

    def start(self) -> None:
        pass

    def run(self, stop: threading.Event) -> None:
        from core.decisions.pending_resets import apply_due_resets  # the decision rules, not
        # the mail pipeline's imports: loaded only by a worker that applies resets

        while not stop.is_set():
            try:
                applied = apply_due_resets(self.engine, clock=self.clock, limit=self.batch_size)
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                stop.wait(self.database.failed(exc))
                continue
            self.database.ok()
            self.applied += applied
            if applied:
                log.info("applied %d 2FA reset(s)", applied)
            if applied < self.batch_size:
                stop.wait(self.interval)

    def degraded(self) -> str | None:
        return self.database.name if self.database.down else None

    def details(self) -> Mapping[str, Any]:
        return {"applied": self.applied}


def imap_config_from(settings: Settings) -> ImapConfig:
    if not (settings.imap_user and settings.imap_password):
        raise InvalidInput("IMAP needs BACKOFFICE_IMAP_USER and BACKOFFICE_IMAP_PASSWORD.")
    security = settings.imap_security
    return ImapConfig(
        host=settings.imap_host or "",
        port=settings.imap_port or (993 if security == "ssl" else 143),
        user=settings.imap_user,
        password=settings.imap_password.get_secret_value(),
        folder=settings.imap_folder,
        security=security,
        move_to=settings.imap_move_to,
    )


def services_from_settings(
    engine: Engine, settings: Settings | None = None, *, clock: Clock = system_clock
) -> list[Service]:
    """What ``backoffice worker`` runs: the outbox sender unless ``worker_outbox`` is off,
    the due 2FA resets with it unless ``worker_resets`` is off, the SMTP receiver when
    ``smtpd_port`` is set, IMAP when ``imap_host`` is set, a Maildir when ``maildir_watch``
    is set."""
    s = settings or get_settings()
    services: list[Service] = []
    if s.worker_outbox:
        services.append(OutboxService(engine, settings=s, clock=clock))
        if s.worker_resets:
            services.append(ResetsService(engine, interval=s.resets_poll_seconds, clock=clock))
    if s.smtpd_port:
        services.append(
            SmtpReceiverService(
                engine, host=s.smtpd_host, port=s.smtpd_port, settings=s, clock=clock
            )
        )
    if s.imap_host:
        services.append(
            ImapService(engine, imap_config_from(s), interval=s.imap_poll_seconds, clock=clock)
        )
    if s.maildir_watch:
        services.append(
            MaildirService(engine, s.maildir_watch, interval=s.maildir_poll_seconds, clock=clock)
        )
    off = [
        name
        for name, on in (
            ("outbox sender (BACKOFFICE_WORKER_OUTBOX)", s.worker_outbox),
            ("SMTP receiver (BACKOFFICE_SMTPD_PORT)", s.smtpd_port),
            ("IMAP (BACKOFFICE_IMAP_HOST)", s.imap_host),
            ("Maildir (BACKOFFICE_MAILDIR_WATCH)", s.maildir_watch),
        )
        if not on
    ]
    if off and services:
        log.info("not enabled: %s", "; ".join(off))
    if not services:
        raise InvalidInput(
            "Nothing to run: set BACKOFFICE_SMTPD_PORT, BACKOFFICE_IMAP_HOST or "
            "BACKOFFICE_MAILDIR_WATCH, or leave BACKOFFICE_WORKER_OUTBOX on."
        )
    return services
