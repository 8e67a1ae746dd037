"""An SMTP receiver for the support address (aiosmtpd). It answers ``250 OK`` only after the
message is committed and ``451`` if storing failed, so the sending server keeps the message
and retries: SMTP's own queue is the safety net. The ``250`` says nothing about what the
message became (new ticket, reply, duplicate): a sender must not learn ticket numbers or
whether an address has an open request. Stopping closes the port first, lets messages being
stored finish (bounded), then ends the sessions; a sender cut off mid-way retries."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import Engine

from core.clock import Clock, system_clock
from core.inbound.pipeline import IngestOutcome, ingest_bytes
from core.settings import get_settings
from core.store.engine import session_scope
from core.workers.faults import Dependency, is_transient_database_error
from core.workers.log_format import mask_address

log = logging.getLogger("core.inbound")
HARD_SIZE_LIMIT_FACTOR = 2
"""Above the quarantine limit we still accept (and quarantine) up to twice its size; beyond
that the SMTP server refuses with 552 so nobody can fill the disk."""


class InboundHandler:
    """aiosmtpd handler: every message (whatever the recipient) goes through the pipeline.
    ``store`` is the seam tests use to make storage fail."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = system_clock,
        store: Callable[[bytes], IngestOutcome] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.store = store or self._store
        self.database = Dependency("database", log)
        self.in_flight = 0
        """Messages being stored right now (a clean stop waits for them)."""
        self.accepted = 0
        self.deferred = 0

    def _store(self, raw: bytes) -> IngestOutcome:
        with session_scope(self.engine) as session:
            return ingest_bytes(session, raw, source="smtp", clock=self.clock)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        mail_from = (envelope.mail_from or "").strip("<>")
        raw = b"Return-Path: <" + mail_from.encode("ascii", "replace") + b">\r\n" + content
        self.in_flight += 1
        try:
            await asyncio.to_thread(self.store, raw)
        except Exception as exc:
            self.deferred += 1
            if is_transient_database_error(exc):
                self.database.failed(exc)
            else:
                log.exception("SMTP: could not store a message from %s", mask_address(mail_from))
            return "451 4.3.0 Could not store the message; please try again later"
        finally:
            self.in_flight -= 1
        self.database.ok()
        self.accepted += 1
        return "250 OK"


def start_receiver(
    engine: Engine,
    *,
    host: str = "127.0.0.1",
    port: int = 2525,
    clock: Clock = system_clock,
    handler: InboundHandler | None = None,
) -> Controller:
    """Start the receiver in a background thread; call ``.stop()`` on the result to end it."""
    controller = Controller(
        handler or InboundHandler(engine, clock=clock),
        hostname=host,
        port=port,
        data_size_limit=get_settings().inbound_max_bytes * HARD_SIZE_LIMIT_FACTOR,
        server_hostname=get_settings().support_address.rpartition("@")[2] or "localhost",
    )
    controller.start()
    return controller


def stop_receiver(controller: Controller, *, grace: float) -> None:
    """Stop listening, give messages being stored up to ``grace`` seconds to commit and be
    answered, then end every session."""
    handler: InboundHandler = controller.handler
    loop, server = controller.loop, controller.server
    if server is not None and loop.is_running():
        loop.call_soon_threadsafe(server.close)
    deadline = time.monotonic() + grace
    while handler.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.05)  # let the last reply leave before the sessions are cancelled
    controller.stop()
