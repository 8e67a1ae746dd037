"""Inbound mail through one path, however it arrives: a batch of messages is prepared
(``prepare``: parse, evidence, redaction; no database), its raw rows stored (``storage``:
the unique constraints decide duplicates and re-deliveries), every message planned once
(``plan``) and written by one batched writer (``write``), in one transaction.
``ingest_bytes`` and ``reprocess_quarantined`` are batches of one in the caller's
transaction.

A fault caused by one message must not cost the others: the fast pass writes the batch
without savepoints; if a message breaks it, the batch is redone with one savepoint per
message, and a message that still fails is stored alone, quarantined with the reason."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.clock import Clock, system_clock
from core.errors import NotFound
from core.inbound.plan import plan_batch
from core.inbound.prepare import Prepared, prepare, prepare_all
from core.inbound.process_tuning import fewer_collections, prompt_handoffs
from core.inbound.report import IngestReport
from core.inbound.storage import RawMessage, Stored, store_raw
from core.inbound.write import IngestOutcome, quarantine_outcome, write
from core.staff.authorization import authorize_actor
from core.store.engine import session_scope
from core.store.tables import InboundMessage

log = logging.getLogger("core.inbound")
RETRIES = 5
"""Batches retried when the database gives up on a lock (deadlock, serialization)."""
LOCK_SQLSTATES = {"40P01", "40001"}

__all__ = ["IngestOutcome", "SourceMessage", "ingest_bytes", "ingest_messages"]


@dataclass
class SourceMessage:
    """One message from a source; ``done`` marks it handled there, called only after the
    transaction holding it committed."""

    raw: bytes
    source: str
    done: Callable[[], None] | None = None
    key: object = None


def ingest_bytes(
    session: Session, raw: bytes, *, source: str, clock: Clock = system_clock
) -> IngestOutcome:
    """Ingest one message in ``session``'s transaction; the caller commits, and only then
    acknowledges the message at its source. Never raises for bad mail (it is quarantined);
    database errors propagate so the caller can roll back and leave the mail at its source."""
    (outcome,) = _write_isolated(session, [prepare(raw)], [source], clock)
    return _logged(outcome)


def reprocess_quarantined(
    session: Session, inbound_id: int, *, actor: str = "system", clock: Clock = system_clock
) -> IngestOutcome:
    """Run a quarantined message through the pipeline again (after a fix or a raised size
    limit), as a batch of one on its stored row. Tokens were masked when it was stored, so
    none can be hashed now. An original of the same email stored meanwhile makes it a
    re-delivery (the content constraint decides). ``actor`` is an agent or admin
    (``staff:NAME``, verified now) or the operator's shell; else ``Forbidden``."""
    authorize_actor(session, actor, "mail.reprocess")
    row = session.get(InboundMessage, inbound_id)
    if row is None or row.status != "quarantined":
        raise NotFound(f"No quarantined inbound message {inbound_id}.")
    prep = prepare(row.raw)
    prep.message_id = row.message_id
    stored = Stored(row.id)
    if prep.content_digest is not None:
        try:
            with session.begin_nested():
                session.execute(
                    update(InboundMessage.__table__)
                    .where(InboundMessage.__table__.c.id == row.id)
                    .values(content_digest=prep.content_digest)
                )
        except IntegrityError:
            stored = Stored(row.id, _original_id(session, prep), redelivery=True)
    try:
        with session.begin_nested():
            plans = plan_batch(session, [prep], [row.source], [stored])
            (outcome,) = write(session, plans, clock)
    except Exception as exc:
        if not _is_message_fault(exc):
            raise
        outcome = quarantine_outcome(row.message_id, row.id, exc)
        _mark(session, outcome)
    return _logged(outcome)


def _original_id(session: Session, prep: Prepared) -> int | None:
    return session.execute(
        InboundMessage.__table__.select()
        .with_only_columns(InboundMessage.__table__.c.id)
        .where(
            InboundMessage.__table__.c.message_id == prep.message_id,
            InboundMessage.__table__.c.content_digest == prep.content_digest,
        )
    ).scalar_one_or_none()


def _raw_message(prep: Prepared, source: str, clock: Clock) -> RawMessage:
    parsed = prep.parsed
    return RawMessage(
        message_id=prep.message_id,
        sha256=prep.sha256,
        raw=prep.stored_raw,
        size=prep.size,
        source=source,
        received_at=clock(),
        content_digest=prep.content_digest,
        from_addr=parsed.from_addr if parsed else None,
        subject=parsed.subject if parsed else None,
    )


def _write_together(
    session: Session, prepared: list[Prepared], sources: list[str], clock: Clock
) -> list[IngestOutcome]:
    """The fast pass: the whole batch stored, planned and written with no savepoint."""
    stored = store_raw(
        session, [_raw_message(p, s, clock) for p, s in zip(prepared, sources, strict=True)]
    )
    return write(session, plan_batch(session, prepared, sources, stored), clock)


def _write_isolated(
    session: Session, prepared: list[Prepared], sources: list[str], clock: Clock
) -> list[IngestOutcome]:
    """Each message as a batch of one in its own savepoint; one that fails is stored alone,
    quarantined with the reason (without its parsed fields if those were the trouble)."""
    outcomes = []
    for prep, source in zip(prepared, sources, strict=True):
        try:
            with session.begin_nested():
                outcomes += _write_together(session, [prep], [source], clock)
            continue
        except Exception as exc:
            if not _is_message_fault(exc):
                raise
            failure = exc
        outcomes.append(_quarantine_alone(session, prep, source, clock, failure))
    return outcomes


def _quarantine_alone(
    session: Session, prep: Prepared, source: str, clock: Clock, failure: Exception
) -> IngestOutcome:
    raw = _raw_message(prep, source, clock)
    raw.status, raw.content_digest = "quarantined", None
    for bare in (False, True):
        if bare:
            raw.from_addr = raw.subject = None
        try:
            with session.begin_nested():
                (where,) = store_raw(session, [raw])
        except Exception as exc:
            if bare or not _is_message_fault(exc):
                raise
            continue
        if where.inbound_id is None:
            return IngestOutcome("duplicate", prep.message_id, reason="already stored")
        outcome = quarantine_outcome(prep.message_id, where.inbound_id, failure)
        _mark(session, outcome)
        return outcome
    raise AssertionError("unreachable")


def _mark(session: Session, outcome: IngestOutcome) -> None:
    session.execute(
        update(InboundMessage.__table__)
        .where(InboundMessage.__table__.c.id == outcome.inbound_id)
        .values(status=outcome.status, reason=outcome.reason, ticket_id=None)
    )


def _is_message_fault(exc: Exception) -> bool:
    """A fault caused by this message's content (quarantine it) rather than by the database
    being unavailable or giving up on a lock (roll back and retry later, leaving the mail
    at its source)."""
    if isinstance(exc, OperationalError | DisconnectionError):
        return False
    return not (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _is_lock_failure(exc: Exception) -> bool:
    """A deadlock or serialization failure: the batch is safe to run again."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and code in LOCK_SQLSTATES


def _logged(outcome: IngestOutcome) -> IngestOutcome:
    log.info(
        "inbound %s: %s%s",
        redact_tokens(outcome.message_id),
        outcome.status,
        f" (ticket {outcome.ticket_id})" if outcome.ticket_id else "",
    )
    return outcome


def ingest_messages(
    engine: Engine,
    messages: Iterable[SourceMessage],
    *,
    clock: Clock = system_clock,
    batch_size: int = 100,
    report: IngestReport | None = None,
    in_transaction: Callable[[Session, list[SourceMessage]], None] | None = None,
    progress: Callable[[IngestOutcome], None] | None = None,
    parse_processes: int = 0,
) -> IngestReport:
    """Ingest a stream in transactions of up to ``batch_size`` messages, in stream order.
    After each commit the transaction's messages are marked done at their source; a crash
    before that leaves them there, and the next run finds them already stored (a
    duplicate, not a second ticket). ``in_transaction`` lets a source save its own
    checkpoint in the same commit. With ``parse_processes`` (see
    ``default_parse_processes``), that many processes prepare the stream ahead while this
    process writes (the database writer stays single; see ``_prepared_batches``); with 0
    this process does both."""
    report = report or IngestReport()
    size = max(1, batch_size)
    with fewer_collections():
        if parse_processes > 0:
            engine.dispose()  # no database connection may be inherited by a parse process
            with (
                prompt_handoffs(),
                ProcessPoolExecutor(
                    parse_processes, initializer=_exit_with_parent, initargs=(os.getpid(),)
                ) as pool,
            ):
                for batch, prepared in _prepared_batches(pool, messages, size, parse_processes):
                    _write_batch(engine, batch, prepared, clock, report, in_transaction, progress)
        else:
            for batch in _batches(messages, size):
                prepared = prepare_all([m.raw for m in batch])
                _write_batch(engine, batch, prepared, clock, report, in_transaction, progress)
    return report


def _write_batch(
    engine: Engine,
    batch: list[SourceMessage],
    prepared: list[Prepared],
    clock: Clock,
    report: IngestReport,
    in_transaction: Callable[[Session, list[SourceMessage]], None] | None,
    progress: Callable[[IngestOutcome], None] | None,
) -> None:
    """One batch in one transaction (redone isolated if a message breaks it, again if the
    database gave up on a lock), then done at the source and counted."""
    isolate = False
    for attempt in range(RETRIES + 1):
        try:
            outcomes = _write_transaction(engine, batch, prepared, clock, in_transaction, isolate)
            break
        except Exception as exc:
            if _is_lock_failure(exc) and attempt < RETRIES:
                log.warning("ingest batch retried: %s", type(exc.orig).__name__)  # type: ignore[attr-defined]
                continue
            if isolate or not _is_message_fault(exc):
                raise
            isolate = True
    for message, outcome in zip(batch, outcomes, strict=True):
        _logged(outcome)
        if message.done is not None:
            message.done()
        report.add(outcome)
        if progress is not None:
            progress(outcome)


def _write_transaction(
    engine: Engine,
    batch: list[SourceMessage],
    prepared: list[Prepared],
    clock: Clock,
    in_transaction: Callable[[Session, list[SourceMessage]], None] | None,
    isolate: bool,
) -> list[IngestOutcome]:
    """One transaction for the batch; parsing happened before it (no lock held while
    parsing). Autoflush is off while writing: every lookup reads rows written with plain
    INSERTs or the identity map."""
    sources = [m.source for m in batch]
    with session_scope(engine) as session:
        with session.no_autoflush:
            if isolate:
                outcomes = _write_isolated(session, prepared, sources, clock)
            else:
                outcomes = _write_together(session, prepared, sources, clock)
        if in_transaction is not None:
            in_transaction(session, batch)
    return outcomes


def default_parse_processes(total: int | None, batch_size: int) -> int:
    """Parse processes for an ingest of ``total`` messages (None: unknown). One is enough:
    preparing a message (parse, evidence, redaction) costs about what writing it does, and
    the writer takes over the parsing it would otherwise wait for; a second parser only
    competes with both for a core.
    No parse process for a single batch or on a single core, where one costs more than it
    saves."""
    if (os.cpu_count() or 1) < 2 or (total is not None and total <= batch_size):
        return 0
    return 1


def _exit_with_parent(parent: int) -> None:
    """Parse-process initializer: end when the ingest that started it is gone (killed by
    SIGKILL, say) instead of lingering forever on a queue nobody writes to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


CHUNKS_PER_PROCESS = 16
"""A batch goes to the parse processes in this many pieces per process: small enough that
the writer seldom waits long for the one it needs next, and can take over the ones not
started yet."""
MAX_CHUNK = 32


@dataclass
class _Chunk:
    messages: list[SourceMessage]
    future: Future[list[Prepared]]
    prepared: list[Prepared] | None = None

    def ready(self) -> bool:
        return self.prepared is not None or self.future.done()

    def result(self) -> list[Prepared]:
        if self.prepared is None:
            self.prepared = self.future.result()
        return self.prepared


def _prepared_batches(
    pool: Executor, messages: Iterable[SourceMessage], batch_size: int, processes: int
) -> Iterator[tuple[list[SourceMessage], list[Prepared]]]:
    """The stream as (transaction's messages, their prepared forms), in stream order, with
    both cores busy until the end. Two batches beyond the one being written are kept
    submitted to ``pool``, so the parse processes always have work while the caller
    writes. To complete the batch it needs next, the caller prepares that batch's chunks
    no parse process has started, from its back (waiting would leave its core idle; a chunk
    prepared here is not pickled either), and waits only for chunks already being
    prepared. Once the stream has ended, a transaction takes half of what is left, so the
    last write, which nothing can overlap, is about one chunk's rather than a whole
    batch's."""
    chunk_size = max(1, min(MAX_CHUNK, -(-batch_size // (processes * CHUNKS_PER_PROCESS))))
    source = iter(messages)
    window: deque[_Chunk] = deque()
    ended = False

    def refill() -> None:
        nonlocal ended
        pending = sum(len(c.messages) for c in window)
        while not ended and pending < 2 * batch_size:
            chunk = list(islice(source, chunk_size))
            if not chunk:
                ended = True
                return
            window.append(_Chunk(chunk, pool.submit(prepare_all, [m.raw for m in chunk])))
            pending += len(chunk)

    refill()
    while window:
        pending = sum(len(c.messages) for c in window)
        wanted = batch_size if not ended else max(1, min(batch_size, pending // 2))
        current = list(islice(window, _front(window, wanted, batch_size)))
        waiting = [c for c in current if not c.ready()]
        if not waiting:
            for _ in current:
                window.popleft()
            refill()  # the next batches go to the parse processes before this one is written
            yield (
                [m for c in current for m in c.messages],
                [p for c in current for p in c.result()],
            )
        elif not _prepare_one_here(waiting):
            waiting[0].result()  # the rest is with the parse processes: wait for the first
        refill()


def _front(window: deque[_Chunk], wanted: int, most: int) -> int:
    """How many chunks at the front make the next transaction: at least ``wanted``
    messages (or all of the window) and at most ``most`` (one chunk at least)."""
    count = 0
    for taken, chunk in enumerate(window, start=1):
        if taken > 1 and count + len(chunk.messages) > most:
            return taken - 1
        count += len(chunk.messages)
        if count >= wanted:
            return taken
    return len(window)


def _prepare_one_here(chunks: list[_Chunk]) -> bool:
    """Prepare the last of ``chunks`` that no parse process has started, in this process;
    False when there is none."""
    for chunk in reversed(chunks):
        if chunk.prepared is None and chunk.future.cancel():
            chunk.prepared = prepare_all([m.raw for m in chunk.messages])
            return True
    return False


def _batches(items: Iterable[SourceMessage], size: int) -> Iterator[list[SourceMessage]]:
    batch: list[SourceMessage] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
