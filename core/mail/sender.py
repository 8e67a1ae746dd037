"""Deliver the outbox with aiosmtplib: claim rows under a short lease, send them over several
reused connections at once, and record each outcome right after the server's reply, so many
senders can run side by side, a dead one's rows are taken over quickly, and a row is sent
twice only if its sender died between the server's ``250`` and the commit that follows it.

A claim moves rows ``queued → sending`` in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite) and stamps them with this sender's token and a lease
(``claimed_until``) that a background task renews while the sender lives; an expired lease
makes the row claimable again. The sender only starts a message whose lease it still holds.
Temporary failures (4xx, no connection, timeouts) go back to ``queued`` with an exponential
back-off in ``next_attempt_at``; a 5xx reply, or a temporary failure on the last allowed
attempt, marks the row ``failed`` with the server's reply. Stopping (``run``'s ``stop``)
finishes the messages in flight and puts every other claimed row back to ``queued`` at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiosmtplib
from sqlalchemy import Engine, and_, bindparam, or_, select, update

from core.clock import Clock, system_clock
from core.errors import HeaderInjection, SecretUnreadable
from core.mail.message import message_bytes
from core.settings import Settings, get_settings
from core.store.engine import get_engine, session_scope
from core.store.tables.outbox import OutboxEmail
from core.workers.faults import Dependency, is_transient_database_error

log = logging.getLogger("core.mail.sender")

_OUTBOX = OutboxEmail.__table__
_MARK_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        _OUTBOX.c.status.in_(("queued", "sending")),
    )
    .values(
        attempts=_OUTBOX.c.attempts + 1,
        claimed_until=None,
        status="sent",
        sent_at=bindparam("now", type_=_OUTBOX.c.sent_at.type),
        last_error=None,
    )
)
"""Built once: building the statement per group commit cost more CPU than running it."""
_RENEW = (
    update(_OUTBOX)
    .where(_OUTBOX.c.claimed_by == bindparam("token"), _OUTBOX.c.status == "sending")
    .values(claimed_until=bindparam("until", type_=_OUTBOX.c.claimed_until.type))
    .returning(_OUTBOX.c.id)
)

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
    released: int = 0
    """Claimed rows put back to ``queued`` untouched when the sender stopped."""

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

    def abort(self) -> None:
        """Drop the connection without a word (a message cut off mid-way is not delivered)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def classify(self, code: int, message: str) -> None:
        """Raise the failure a reply code means: 421 drops the connection, 5xx is final."""
        if code == 421:
            self.forget()
            raise _Temporary(_reply(code, message), connection=True)
        if 500 <= code < 600:
            raise _Permanent(_reply(code, message))
        raise _Temporary(_reply(code, message))


@dataclass
class _Outcome:
    row: OutboxEmail
    status: str
    """``sent``, ``retry`` or ``failed``."""
    reply: str | None = None


@dataclass
class _Run:
    """The state of one ``deliver_due``/``run``: rows waiting for a lane, leases, counts."""

    watch: bool
    queue: asyncio.Queue[OutboxEmail | None] = field(default_factory=asyncio.Queue)
    """Claimed rows for the lanes; ``None`` tells a lane that no more will come."""
    rows_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when fewer rows wait than there are lanes: the claimer claims more."""
    held: set[int] = field(default_factory=set)
    """Rows this sender still holds, as of the last claim or lease renewal."""
    lease_until: float = 0.0
    """``time.monotonic()`` before which the lease (as last renewed) is surely valid."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    relay_down: asyncio.Event = field(default_factory=asyncio.Event)
    result: DeliveryResult = field(default_factory=DeliveryResult)
    pending: list[tuple[_Outcome, asyncio.Future[None]]] = field(default_factory=list)
    """Outcomes waiting for the next group commit."""
    recorder: asyncio.Task[None] | None = None


class OutboxSender:
    """One delivery process (any number may run on one database). ``deliver_due()`` sends
    everything due now and returns; ``run(stop)`` keeps sending until ``stop`` is set and
    never gives up on a database or SMTP outage."""

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
        self.token = f"{self.worker_id}:{uuid.uuid4().hex[:12]}"
        """Written to ``claimed_by``: this sender's leases, whatever batch they came in."""
        self.connections = max(1, connections or self.settings.smtp_connections)
        self.database = Dependency("database", log)
        self.relay = Dependency("SMTP relay", log)
        self.totals = DeliveryResult()
        """Counts since this sender started (for heartbeats)."""

    @property
    def degraded(self) -> str | None:
        """The dependency that is down right now, if any."""
        for dep in (self.database, self.relay):
            if dep.down:
                return dep.name
        return None

    # -- the database side: each call is one short transaction, run off the event loop ---

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.outbox_lease_seconds)

    def _claim(self, limit: int) -> list[OutboxEmail]:
        now = self.clock()
        # core.mail.outbox_due asks the same before this loads (test_outbox_due holds both)
        due = or_(
            and_(OutboxEmail.status == "queued", OutboxEmail.next_attempt_at <= now),
            and_(OutboxEmail.status == "sending", OutboxEmail.claimed_until < now),
        )
        pick = (
            select(OutboxEmail.id)
            .where(due)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with session_scope(self.engine) as s:
            rows = list(
                s.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id.in_(pick.scalar_subquery()), due)
                    .values(
                        status="sending", claimed_by=self.token, claimed_until=now + self._lease
                    )
                    .returning(OutboxEmail)
                    .execution_options(synchronize_session=False)
                ).scalars()
            )
            s.expunge_all()
        return sorted(rows, key=lambda r: (r.next_attempt_at, r.id or 0))

    def _renew(self) -> set[int]:
        """Extend the lease of every row still held; returns their ids."""
        with self.engine.begin() as s:
            until = self.clock() + self._lease
            return set(s.execute(_RENEW, {"token": self.token, "until": until}).scalars())

    def release(self, ids: list[int] | None = None) -> int:
        """Rows this sender holds (``ids``, default all) go back to ``queued``, due as before,
        no attempt counted (they were never handed to the server)."""
        held = and_(OutboxEmail.claimed_by == self.token, OutboxEmail.status == "sending")
        if ids is not None:
            held = and_(held, OutboxEmail.id.in_(ids))
        with session_scope(self.engine) as s:
            return len(
                s.execute(
                    update(OutboxEmail)
                    .where(held)
                    .values(status="queued", claimed_by=None, claimed_until=None)
                    .returning(OutboxEmail.id)
                    .execution_options(synchronize_session=False)
                ).all()
            )

    def _values(self, outcome: _Outcome) -> dict[str, Any]:
        row, now = outcome.row, self.clock()
        reply = (outcome.reply or "")[:2000]
        attempts = row.attempts + 1
        if outcome.status == "retry" and attempts < self.settings.outbox_max_attempts:
            delay = min(
                self.settings.outbox_retry_base_seconds * 2 ** (attempts - 1),
                self.settings.outbox_retry_max_seconds,
            )
            return {
                "status": "queued",
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": reply,
            }
        if outcome.status == "retry":
            reply = f"gave up after {attempts} attempts: {reply}"[:2000]
        return {"status": "failed", "last_error": reply}

    def _record(self, outcomes: list[_Outcome]) -> None:
        """Write outcomes in one transaction, every ``sent`` row in one statement. ``sent``
        wins over a lease lost meanwhile (the server has the message; another sender must
        not send it again); a retry or failure is only recorded while this sender still
        holds the row."""
        sent = [o.row.id for o in outcomes if o.status == "sent"]
        with self.engine.begin() as s:  # Core: an ORM session per commit cost more than the SQL
            if sent:
                s.execute(_MARK_SENT, {"ids": sent, "now": self.clock()})
            for outcome in outcomes:
                if outcome.status == "sent":
                    continue
                s.execute(
                    update(OutboxEmail)
                    .where(
                        OutboxEmail.id == outcome.row.id,
                        OutboxEmail.claimed_by == self.token,
                        OutboxEmail.status == "sending",
                    )
                    .values(
                        attempts=OutboxEmail.attempts + 1,
                        claimed_until=None,
                        **self._values(outcome),
                    )
                    .execution_options(synchronize_session=False)
                )

    async def _database(
        self, call: Callable[..., Any], *args: Any, run: _Run, until_stop: bool = False
    ) -> Any:
        """``call`` in a thread, retried with back-off while the database is away (an outage,
        a lock held past the busy timeout). With ``until_stop`` it gives up and returns None
        once the run is stopping; otherwise only cancelling the task ends the retries."""
        while True:
            try:
                value = await asyncio.to_thread(call, *args)
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                delay = self.database.failed(exc)
                if until_stop:
                    await self._sleep(run, delay)
                    if run.stopping.is_set():
                        return None
                else:
                    await asyncio.sleep(delay)
                continue
            self.database.ok()
            return value

    # -- the SMTP side ---------------------------------------------------------------

    async def _send_one(self, row: OutboxEmail, connection: _Connection) -> None:
        try:
            message = message_bytes(row, settings=self.settings)
        except HeaderInjection as exc:
            raise _Permanent(f"refused to build: {exc}") from None
        except SecretUnreadable:  # sealed under another key: no retry will open it
            raise _Permanent(
                "refused to build: its sealed body does not open with this key"
            ) from None
        client = await connection.client()
        try:
            await client.sendmail(self.settings.support_address, [row.to_addr], message)
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

    def _lease_margin(self) -> float:
        return min(self.settings.outbox_lease_seconds / 3, self.settings.smtp_timeout_seconds)

    async def _lane(self, run: _Run) -> None:
        """Take rows from the run's queue and send them one after the other on one
        connection; each outcome is committed before the next message starts, so at most one
        message per lane is ever delivered but unrecorded."""
        connection = _Connection(self.settings)
        try:
            while (row := await run.queue.get()) is not None:
                if run.queue.qsize() < self.connections:
                    run.rows_wanted.set()
                if run.stopping.is_set() or row.id not in run.held:
                    continue  # stopping, or another sender took it over: not ours to send
                if time.monotonic() > run.lease_until:
                    continue  # the lease lapsed (database away): leave the row to its holder
                try:
                    outcome = await self._attempt(row, connection, run)
                    await self._recorded(outcome, run)
                    self._count(outcome, run)
                finally:
                    run.held.discard(row.id or 0)
                if outcome.status != "sent" and run.relay_down.is_set():
                    await self._put_back_queue(run)
        finally:
            await connection.close()

    async def _recorded(self, outcome: _Outcome, run: _Run) -> None:
        """Commit ``outcome``, together with those other lanes finish meanwhile (one
        transaction for all of them: group commit); returns once it is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        run.pending.append((outcome, future))
        if run.recorder is None or run.recorder.done():
            run.recorder = asyncio.create_task(self._record_pending(run))
        await asyncio.shield(future)

    async def _record_pending(self, run: _Run) -> None:
        while run.pending:
            batch, run.pending = run.pending, []
            try:
                await self._database(self._record, [o for o, _ in batch], run=run)
            except Exception as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for _, future in batch:
                future.set_result(None)

    async def _attempt(self, row: OutboxEmail, connection: _Connection, run: _Run) -> _Outcome:
        try:
            await self._send_one(row, connection)
        except _Permanent as exc:
            return _Outcome(row, "failed", exc.reply)
        except _Temporary as exc:
            if exc.connection:
                await connection.close()
                if not await connection.reachable() and not run.relay_down.is_set():
                    run.relay_down.set()
                    self.relay.failed(ConnectionError(exc.reply))
            return _Outcome(row, "retry", exc.reply)
        self.relay.ok()
        return _Outcome(row, "sent")

    async def _put_back_queue(self, run: _Run) -> None:
        """The relay is down: rows waiting for a lane go back to ``queued`` untried (an outage
        is not the message's fault, so it costs no attempt); the sender backs off as a whole."""
        waiting, ends = [], 0
        while not run.queue.empty():
            row = run.queue.get_nowait()
            if row is None:
                ends += 1
            else:
                waiting.append(row.id or 0)
        for _ in range(ends):
            run.queue.put_nowait(None)
        if waiting:
            await self._database(self.release, waiting, run=run)
            run.held.difference_update(waiting)

    def _count(self, outcome: _Outcome, run: _Run) -> None:
        final = outcome.status
        if final == "retry" and outcome.row.attempts + 1 >= self.settings.outbox_max_attempts:
            final = "failed"
        for result in (run.result, self.totals):
            if final == "sent":
                result.sent += 1
            elif final == "retry":
                result.retrying += 1
            else:
                result.failed += 1

    # -- the loop --------------------------------------------------------------------

    async def _renewer(self, run: _Run) -> None:
        every = self.settings.outbox_lease_renew_seconds
        while True:
            await asyncio.sleep(every)
            if not run.held:
                continue
            started, before = time.monotonic(), set(run.held)
            try:
                held = await asyncio.to_thread(self._renew)
            except Exception as exc:
                if is_transient_database_error(exc):
                    self.database.failed(exc)
                else:
                    log.exception("could not renew the outbox leases")
                continue
            self.database.ok()
            run.held -= before - held  # rows claimed meanwhile are not in ``before``
            run.lease_until = started + self.settings.outbox_lease_seconds - self._lease_margin()

    async def _claimer(self, run: _Run, poll: float) -> None:
        """Keep the lanes fed: claim a batch whenever fewer rows wait than there are lanes.
        Without ``watch`` it ends when nothing is due; with it, it polls every ``poll`` s."""
        relay_wait = 0.0
        while not run.stopping.is_set():
            if run.relay_down.is_set():
                if not run.watch:
                    return
                relay_wait = min(max(1.0, relay_wait * 2), self.settings.outbox_retry_base_seconds)
                await self._sleep(run, relay_wait)
                run.relay_down.clear()
                continue
            if run.queue.qsize() >= self.connections:
                run.rows_wanted.clear()
                await self._until(run, run.rows_wanted, poll or 1.0)
                continue
            started = time.monotonic()
            # while the relay is down, one row probes it: an outage costs one attempt per try
            limit = 1 if self.relay.down else self.settings.outbox_batch_size
            if run.watch:
                rows = await self._database(self._claim, limit, run=run, until_stop=True)
            else:  # a one-shot run reports the outage (one line) instead of waiting it out
                rows = await asyncio.to_thread(self._claim, limit)
            if rows:
                relay_wait = 0.0
                run.lease_until = (
                    started + self.settings.outbox_lease_seconds - self._lease_margin()
                )
                for row in rows:
                    run.held.add(row.id or 0)
                    run.queue.put_nowait(row)
                continue
            if not run.watch:
                return
            await self._sleep(run, poll)

    @staticmethod
    async def _sleep(run: _Run, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(run.stopping.wait(), seconds)

    @staticmethod
    async def _until(run: _Run, event: asyncio.Event, seconds: float) -> None:
        """Wait for ``event`` or stopping, at most ``seconds``."""
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(run.stopping.wait())]
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waits:
            waiter.cancel()

    async def _watch_stop(self, stop: threading.Event, run: _Run) -> None:
        while not stop.is_set():
            await asyncio.sleep(0.05)
        run.stopping.set()

    async def _run(
        self, *, watch: bool, stop: threading.Event | None, poll: float
    ) -> DeliveryResult:
        run = _Run(watch=watch)
        tasks = [asyncio.create_task(self._lane(run)) for _ in range(self.connections)]
        renewer = asyncio.create_task(self._renewer(run))
        watcher = asyncio.create_task(self._watch_stop(stop, run)) if stop else None
        try:
            try:
                await self._claimer(run, poll)
            finally:
                for _ in tasks:
                    run.queue.put_nowait(None)
            grace = self.settings.shutdown_grace_seconds if run.stopping.is_set() else None
            done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:  # past the grace period: cut the messages off
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            renewer.cancel()
            if watcher:
                watcher.cancel()
            await asyncio.gather(renewer, *([watcher] if watcher else []), return_exceptions=True)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if run.recorder is not None and not run.recorder.done():
                await asyncio.wait([run.recorder], timeout=self.settings.shutdown_grace_seconds)
                run.recorder.cancel()
            run.result.released = await self._release_safely()
        return run.result

    async def _release_safely(self) -> int:
        try:
            released = await asyncio.to_thread(self.release)
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
            log.warning(
                "could not put claimed mail back (database away); it is taken over when its "
                "lease ends in at most %s s",
                self.settings.outbox_lease_seconds,
            )
            return 0
        if released:
            log.info("put %d claimed emails back in the queue", released)
        return released

    async def deliver_due_async(self) -> DeliveryResult:
        """Send every row due now over ``connections`` reused connections and return. When
        the relay cannot be reached the rows not yet tried go back to the queue untouched and
        the run stops: an outage costs one attempt per connection per run, not one per row."""
        return await self._run(watch=False, stop=None, poll=0)

    def deliver_due(self) -> DeliveryResult:
        return asyncio.run(self.deliver_due_async())

    def run(self, stop: threading.Event, *, poll_seconds: float | None = None) -> DeliveryResult:
        """Send until ``stop`` is set, looking for due mail every ``poll_seconds``; then
        finish the messages in flight (at most ``shutdown_grace_seconds``), put the rest of
        the claimed rows back to ``queued`` and return the counts."""
        poll = poll_seconds if poll_seconds is not None else self.settings.outbox_poll_seconds
        return asyncio.run(self._run(watch=True, stop=stop, poll=poll))


def deliver_due(
    engine: Engine | None = None, *, clock: Clock = system_clock, worker_id: str | None = None
) -> DeliveryResult:
    """Send what is due now with the SMTP settings; see ``OutboxSender``."""
    return OutboxSender(engine, clock=clock, worker_id=worker_id).deliver_due()
