"""Deliver the outbox with aiosmtplib: claim rows, send them over one reused connection, and
record each outcome, so several workers can run at once and no row is sent twice.

A row moves ``queued → sending`` by a conditional UPDATE (the claim), so two workers never
hold the same row; ``claimed_until`` lets another worker take over a row whose worker died.
Temporary failures (4xx, no connection, timeouts) go back to ``queued`` with an exponential
back-off in ``next_attempt_at``; a 5xx reply, or a temporary failure on the last allowed
attempt, marks the row ``failed`` with the server's reply."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

import aiosmtplib
from sqlalchemy import Engine, and_, or_, select, update

from core.clock import Clock, system_clock
from core.errors import HeaderInjection
from core.mail.message import build_message
from core.settings import Settings, get_settings
from core.store.engine import get_engine, session_scope
from core.store.tables import OutboxEmail

CONNECTION_ERRORS = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    asyncio.TimeoutError,
    OSError,
)


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


class _Temporary(Exception):
    """A failure worth retrying; ``connection`` when the SMTP connection is unusable."""

    def __init__(self, reply: str, *, connection: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.connection = connection


class _Permanent(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class _Connection:
    """One SMTP connection, opened on first use and reopened after it is lost."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def client(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_ssl,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=s.smtp_timeout_seconds,
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPResponseException as exc:
            raise _Temporary(_reply(exc.code, exc.message), connection=True) from None
        except (*CONNECTION_ERRORS, aiosmtplib.SMTPException) as exc:
            raise _Temporary(f"cannot connect: {exc}", connection=True) from None
        self._client = client
        return client

    async def reachable(self) -> bool:
        try:
            await self.client()
        except _Temporary:
            return False
        return True

    def forget(self) -> None:
        self._client = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    def classify(self, code: int, message: str) -> None:
        """Raise the failure a reply code means: 421 drops the connection, 5xx is final."""
        if code == 421:
            self.forget()
            raise _Temporary(_reply(code, message), connection=True)
        if 500 <= code < 600:
            raise _Permanent(_reply(code, message))
        raise _Temporary(_reply(code, message))


class OutboxSender:
    """One delivery worker. ``deliver_due()`` sends everything due now and returns."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        clock: Clock = system_clock,
        settings: Settings | None = None,
        worker_id: str | None = None,
        connections: int | None = None,
    ) -> None:
        self.engine = engine or get_engine()
        self.clock = clock
        self.settings = settings or get_settings()
        self.worker_id = (worker_id or default_worker_id())[:48]
        self.connections = max(1, connections or self.settings.smtp_connections)

    # -- the database side: claims and outcomes, each its own short transaction ----------

    def _claim_batch(self) -> tuple[str, list[OutboxEmail]]:
        now = self.clock()
        token = f"{self.worker_id}:{uuid.uuid4().hex[:12]}"
        due = or_(
            and_(OutboxEmail.status == "queued", OutboxEmail.next_attempt_at <= now),
            and_(OutboxEmail.status == "sending", OutboxEmail.claimed_until < now),
        )
        with session_scope(self.engine) as s:
            ids = list(
                s.execute(
                    select(OutboxEmail.id)
                    .where(due)
                    .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                    .limit(self.settings.outbox_batch_size)
                ).scalars()
            )
            if not ids:
                return token, []
            s.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id.in_(ids), due)
                .values(
                    status="sending",
                    claimed_by=token,
                    claimed_until=now + timedelta(seconds=self.settings.outbox_claim_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            rows = list(
                s.execute(
                    select(OutboxEmail)
                    .where(OutboxEmail.claimed_by == token, OutboxEmail.status == "sending")
                    .order_by(OutboxEmail.id)
                ).scalars()
            )
        return token, rows

    def _finish(self, row: OutboxEmail, token: str, **values: object) -> None:
        with session_scope(self.engine) as s:
            s.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == row.id, OutboxEmail.claimed_by == token)
                .values(
                    attempts=OutboxEmail.attempts + 1,
                    claimed_until=None,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )

    def _sent(self, row: OutboxEmail, token: str) -> None:
        self._finish(row, token, status="sent", sent_at=self.clock(), last_error=None)

    def _failed(self, row: OutboxEmail, token: str, reply: str) -> None:
        self._finish(row, token, status="failed", last_error=reply[:2000])

    def _retry(self, row: OutboxEmail, token: str, reply: str) -> bool:
        """Back to the queue with back-off; False when that was the last allowed attempt."""
        attempts = row.attempts + 1
        if attempts >= self.settings.outbox_max_attempts:
            self._failed(row, token, f"gave up after {attempts} attempts: {reply}")
            return False
        delay = min(
            self.settings.outbox_retry_base_seconds * 2 ** (attempts - 1),
            self.settings.outbox_retry_max_seconds,
        )
        self._finish(
            row,
            token,
            status="queued",
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            last_error=reply[:2000],
        )
        return True

    # -- the SMTP side ---------------------------------------------------------------

    async def _send_one(self, row: OutboxEmail, connection: _Connection) -> None:
        try:
            message = build_message(row, settings=self.settings)
        except HeaderInjection as exc:
            raise _Permanent(f"refused to build: {exc}") from None
        client = await connection.client()
        try:
            await client.send_message(
                message, sender=self.settings.support_address, recipients=[row.to_addr]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            connection.classify(first.code, first.message)
        except aiosmtplib.SMTPResponseException as exc:
            connection.classify(exc.code, exc.message)
        except CONNECTION_ERRORS as exc:
            connection.forget()
            raise _Temporary(f"connection lost: {exc}", connection=True) from None
        except aiosmtplib.SMTPException as exc:
            raise _Temporary(f"SMTP error: {exc}") from None

    async def _deliver_lane(
        self, rows: list[OutboxEmail], token: str, connection: _Connection, result: DeliveryResult
    ) -> bool:
        """Send ``rows`` one after the other on one connection; True when the server became
        unreachable (the rest of the rows are then put back for later)."""
        for index, row in enumerate(rows):
            try:
                await self._send_one(row, connection)
            except _Permanent as exc:
                self._failed(row, token, exc.reply)
                result.failed += 1
            except _Temporary as exc:
                if self._retry(row, token, exc.reply):
                    result.retrying += 1
                else:
                    result.failed += 1
                if exc.connection:
                    await connection.close()
                    if not await connection.reachable():
                        for rest in rows[index + 1 :]:
                            self._retry(rest, token, exc.reply)
                            result.retrying += 1
                        return True
            else:
                self._sent(row, token)
                result.sent += 1
        return False

    async def deliver_due_async(self) -> DeliveryResult:
        """Send every row due now, batch after batch, over ``smtp_connections`` reused
        connections (each takes every n-th row of a batch, so building the next message
        overlaps the server's work on the last). When the server cannot be reached the
        rest is put back for later and the run stops: an outage costs a few connection
        attempts per run, not one per row."""
        result = DeliveryResult()
        lanes = [_Connection(self.settings) for _ in range(self.connections)]
        try:
            while True:
                token, rows = self._claim_batch()
                if not rows:
                    break
                outages = await asyncio.gather(
                    *(
                        self._deliver_lane(rows[i :: len(lanes)], token, lane, result)
                        for i, lane in enumerate(lanes)
                    )
                )
                if any(outages):
                    break
        finally:
            for lane in lanes:
                await lane.close()
        return result

    def deliver_due(self) -> DeliveryResult:
        return asyncio.run(self.deliver_due_async())


def deliver_due(
    engine: Engine | None = None, *, clock: Clock = system_clock, worker_id: str | None = None
) -> DeliveryResult:
    """Send what is due now with the SMTP settings; see ``OutboxSender``."""
    return OutboxSender(engine, clock=clock, worker_id=worker_id).deliver_due()
