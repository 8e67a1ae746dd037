"""One inbound message through every step: store raw, parse, classify, extract evidence,
open or thread a ticket, acknowledge. Everything happens in the caller's transaction. A
failure in the processing after the raw insert quarantines the message (raw bytes kept,
reason recorded) instead of losing it or the rest of a batch: ``ingest_bytes`` runs that
processing in a savepoint; ``ingest_messages`` runs a batch without savepoints and redoes
it with them only if one message fails."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.clock import Clock, system_clock
from core.errors import NotFound
from core.inbound.classify import classify
from core.inbound.evidence import EvidenceItem, extract_evidence
from core.inbound.new_tickets import NewRequest, claims, create_tickets, message_fields
from core.inbound.parsing import (
    ParsedMessage,
    UnparseableMessage,
    header_message_id,
    parse_message,
)
from core.inbound.redaction import redact_raw
from core.inbound.report import IngestReport
from core.inbound.storage import (
    content_hash,
    insert_raw,
    insert_raw_many,
    synthetic_message_id,
)
from core.settings import get_settings
from core.staff.authorization import authorize_actor
from core.store.bulk import insert_rows
from core.store.engine import session_scope
from core.store.tables import Evidence, InboundMessage, OutboxEmail, Ticket, TicketMessage
from core.tickets.acknowledgement import acknowledge_ticket, acknowledgements_sent
from core.tickets.threading import (
    SUBJECT_TAG_RE,
    add_message,
    create_ticket,
    find_thread,
    is_requester,
    record_reply,
)
from core.verification import verify_ticket

log = logging.getLogger("core.inbound")
ACK_COUNTS = "inbound.ack_counts"
KNOWN_IDS = "inbound.known_message_ids"


def _remember_known_ids(session: Session, message_ids: list[str]) -> None:
    """Which of a batch's Message-IDs already belong to an incoming ticket message, in one
    query, so ``_redelivery`` only queries for those (and for ids added during the batch)."""
    known = set(
        session.execute(
            select(TicketMessage.message_id).where(
                TicketMessage.message_id.in_(message_ids), TicketMessage.direction == "in"
            )
        ).scalars()
    )
    session.info[KNOWN_IDS] = known


def _note_incoming(session: Session, message_id: str) -> None:
    known: set[str] | None = session.info.get(KNOWN_IDS)
    if known is not None:
        known.add(message_id)


@dataclass
class IngestOutcome:
    status: str
    """ticket | threaded | duplicate | auto | bounce | quarantined"""
    message_id: str
    inbound_id: int | None = None
    ticket_id: int | None = None
    reason: str | None = None
    flagged: bool = False
    acknowledged: bool = False
    reopened: bool = False


@dataclass
class _Prepared:
    size: int
    sha256: str
    message_id: str
    stored_raw: bytes
    parsed: ParsedMessage | None
    evidence: list[EvidenceItem] = field(default_factory=list)
    reason: str | None = None


def _prepare(raw: bytes) -> _Prepared:
    """Everything that needs no database: hash, parse, evidence, redacted raw copy."""
    sha256 = content_hash(raw)
    parsed: ParsedMessage | None = None
    evidence: list[EvidenceItem] = []
    reason = None
    try:
        parsed = parse_message(raw, max_bytes=get_settings().inbound_max_bytes)
        evidence = extract_evidence(
            parsed.evidence_texts(), ignore_emails=[get_settings().support_address]
        )
    except UnparseableMessage as exc:
        reason = str(exc)
        parsed = None
    except Exception as exc:  # the stdlib parser on hostile input: quarantine, never crash
        reason = f"parser failed: {type(exc).__name__}: {exc}"
        parsed = None
    message_id = (parsed.message_id if parsed else header_message_id(raw)) or (
        synthetic_message_id(sha256)
    )
    hidden = parsed is None or parsed.hides_token
    return _Prepared(
        size=len(raw),
        sha256=sha256,
        message_id=redact_tokens(message_id),
        stored_raw=redact_raw(raw, hidden=hidden),
        parsed=parsed,
        evidence=evidence,
        reason=redact_tokens(reason) if reason else None,
    )


def ingest_bytes(
    session: Session, raw: bytes, *, source: str, clock: Clock = system_clock
) -> IngestOutcome:
    """Ingest one message in ``session``'s transaction; the caller commits, and only then
    acknowledges the message at its source. Never raises for bad mail (it is quarantined);
    database errors propagate so the caller can roll back and leave the mail at its source."""
    outcome = _ingest_prepared(session, _prepare(raw), source=source, clock=clock, isolate=True)
    _finish(session, [outcome], clock)
    return _logged(outcome)


def _ingest_prepared(
    session: Session, prep: _Prepared, *, source: str, clock: Clock, isolate: bool
) -> IngestOutcome:
    """Store and process one prepared message (the caller records the outcome with
    ``_finish``). With ``isolate`` the processing runs in a savepoint and a fault
    quarantines the message; without, the fault propagates (the batch is then redone
    isolated, see ``ingest_messages``)."""
    parsed = prep.parsed
    inbound_id = _store(session, prep, source, clock)
    if inbound_id is None:
        return IngestOutcome("duplicate", prep.message_id, reason="already stored")
    if parsed is None:
        outcome = IngestOutcome("quarantined", prep.message_id, inbound_id, reason=prep.reason)
    elif isolate:
        outcome = _process_safely(
            session, inbound_id, prep.message_id, parsed, prep.evidence, clock
        )
    else:
        outcome = _process(session, inbound_id, prep.message_id, parsed, prep.evidence, clock)
    return outcome


def _raw_row(prep: _Prepared, source: str, clock: Clock) -> dict[str, Any]:
    """``insert_raw``'s arguments: the redacted raw copy, its hash, where it came from."""
    parsed = prep.parsed
    return {
        "message_id": prep.message_id,
        "sha256": prep.sha256,
        "raw": prep.stored_raw,
        "size": prep.size,
        "source": source,
        "received_at": clock(),
        "from_addr": parsed.from_addr if parsed else None,
        "subject": redact_tokens(parsed.subject) if parsed else None,
    }


def _store(session: Session, prep: _Prepared, source: str, clock: Clock) -> int | None:
    """The raw row; its id, or None when already stored."""
    return insert_raw(session, **_raw_row(prep, source, clock))


def _process_safely(
    session: Session,
    inbound_id: int,
    message_id: str,
    parsed: ParsedMessage,
    evidence: list[EvidenceItem],
    clock: Clock,
) -> IngestOutcome:
    try:
        with session.begin_nested():
            return _process(session, inbound_id, message_id, parsed, evidence, clock)
    except Exception as exc:
        if not _is_message_fault(exc):
            raise
        reason = redact_tokens(f"processing failed: {type(exc).__name__}: {exc}")[:2000]
        log.error("inbound %s: %s", redact_tokens(message_id), reason)
        return IngestOutcome("quarantined", message_id, inbound_id, reason=reason)


def _is_message_fault(exc: Exception) -> bool:
    """A fault caused by this message's content (quarantine it) rather than by the database
    being unavailable (roll back and retry later, leaving the mail at its source)."""
    if isinstance(exc, OperationalError | DisconnectionError):
        return False
    return not (isinstance(exc, DBAPIError) and exc.connection_invalidated)


FINISH = (
    update(InboundMessage.__table__)
    .where(InboundMessage.__table__.c.id == bindparam("row_id"))
    .values(
        status=bindparam("status"),
        reason=bindparam("reason"),
        ticket_id=bindparam("ticket_id"),
        processed_at=bindparam("processed_at"),
    )
)
"""``_finish``'s UPDATE, as a plain executemany (the ORM's bulk UPDATE by primary key
cost a quarter more per row)."""


def _finish(session: Session, outcomes: list[IngestOutcome], clock: Clock) -> None:
    """Record each stored message's outcome on its row (one executemany UPDATE)."""
    now = clock()
    rows = [
        {
            "row_id": o.inbound_id,
            "status": o.status,
            "reason": o.reason,
            "ticket_id": o.ticket_id,
            "processed_at": now,
        }
        for o in outcomes
        if o.inbound_id is not None
    ]
    if rows:
        session.execute(FINISH, rows)


def _logged(outcome: IngestOutcome) -> IngestOutcome:
    log.info(
        "inbound %s: %s%s",
        redact_tokens(outcome.message_id),
        outcome.status,
        f" (ticket {outcome.ticket_id})" if outcome.ticket_id else "",
    )
    return outcome


def _process(
    session: Session,
    inbound_id: int,
    message_id: str,
    parsed: ParsedMessage,
    evidence: list[EvidenceItem],
    clock: Clock,
) -> IngestOutcome:
    redelivered = _redelivery(session, inbound_id, message_id, parsed)
    if redelivered is not None:
        return IngestOutcome(
            "duplicate",
            message_id,
            inbound_id,
            redelivered.ticket_id,
            reason=f"re-delivery of ticket message {redelivered.id} (same Message-ID and text)",
        )
    kind = classify(parsed)
    if kind.kind != "request":
        refs = parsed.original_message_ids + parsed.thread_ids
        match = find_thread(session, references=refs, subject="") if refs else None
        ticket_id = match.ticket.id if match else None
        if match and kind.kind == "bounce":
            _note_incoming(session, message_id)
            add_message(
                session,
                match.ticket,
                direction="in",
                inbound_message_id=inbound_id,
                clock=clock,
                **message_fields(parsed, message_id),
            )
        return IngestOutcome(kind.kind, message_id, inbound_id, ticket_id, reason=kind.reason)

    match = find_thread(session, references=parsed.thread_ids, subject=parsed.subject)
    if match and is_requester(match.ticket, parsed.from_addr):
        ticket = match.ticket
        reopened = record_reply(session, ticket, message_id=message_id, clock=clock)
        _claim(ticket, evidence)
        _attach(session, ticket, inbound_id, message_id, parsed, evidence, clock)
        verify_ticket(session, ticket, clock=clock)
        return IngestOutcome(
            "threaded", message_id, inbound_id, ticket.id, reason=match.how, reopened=reopened
        )

    flag_reason = None
    if match:
        flag_reason = redact_tokens(
            f"Refers to ticket #{match.ticket.id} ({match.how}) but comes from "
            f"{parsed.from_addr}, not its requester"
        )
    claimed = claims(evidence)
    ticket = create_ticket(
        session,
        requester_email=parsed.from_addr,
        requester_name=redact_tokens(parsed.from_name),
        subject=redact_tokens(parsed.subject),
        message_id=message_id,
        claimed_username=claimed.get("claimed_username"),
        claimed_email=claimed.get("claimed_email"),
        flag_reason=flag_reason,
        clock=clock,
    )
    _attach(session, ticket, inbound_id, message_id, parsed, evidence, clock)
    verify_ticket(session, ticket, clock=clock, new=True)
    acknowledged = _acknowledge(session, ticket, message_id, parsed, clock)
    return IngestOutcome(
        "ticket",
        message_id,
        inbound_id,
        ticket.id,
        reason=flag_reason,
        flagged=flag_reason is not None,
        acknowledged=acknowledged,
    )


def _redelivery(
    session: Session, inbound_id: int, message_id: str, parsed: ParsedMessage
) -> TicketMessage | None:
    """The same email delivered again with different transport headers (another source,
    another hop): same Message-ID, sender, subject and text. A reused Message-ID with other
    content is a different message and goes on."""
    known: set[str] | None = session.info.get(KNOWN_IDS)
    if message_id.endswith("@synthetic>") or (known is not None and message_id not in known):
        return None
    fields = message_fields(parsed, message_id)
    for earlier in session.execute(
        select(TicketMessage).where(
            TicketMessage.message_id == message_id,
            TicketMessage.direction == "in",
            TicketMessage.inbound_message_id != inbound_id,
        )
    ).scalars():
        if (earlier.from_addr, earlier.subject, earlier.body_text) == (
            fields["from_addr"],
            fields["subject"],
            fields["body_text"],
        ):
            return earlier
    return None


def _claim(ticket: Ticket, evidence: list[EvidenceItem]) -> None:
    """A reply may name the account the first email forgot; it never overrides a claim."""
    named = claims(evidence)
    ticket.claimed_username = ticket.claimed_username or named.get("claimed_username")
    ticket.claimed_email = ticket.claimed_email or named.get("claimed_email")


def _attach(
    session: Session,
    ticket: Ticket,
    inbound_id: int,
    message_id: str,
    parsed: ParsedMessage,
    evidence: list[EvidenceItem],
    clock: Clock,
) -> int:
    """The message and its evidence on the ticket (evidence in one multi-row INSERT)."""
    _note_incoming(session, message_id)
    ticket_message_id = add_message(
        session,
        ticket,
        direction="in",
        inbound_message_id=inbound_id,
        clock=clock,
        **message_fields(parsed, message_id),
    )
    if evidence:
        now = clock()
        insert_rows(
            session,
            Evidence.__table__,
            [
                {
                    "ticket_id": ticket.id,
                    "ticket_message_id": ticket_message_id,
                    "kind": item.kind,
                    "value": item.value,
                    "fingerprint": item.fingerprint,
                    "token_hash": item.token_hash,
                    "created_at": now,
                }
                for item in evidence
            ],
        )
    return ticket_message_id


def _acknowledge(
    session: Session, ticket: Ticket, message_id: str, parsed: ParsedMessage, clock: Clock
) -> bool:
    """Acknowledge within the daily limit; the per-sender count is kept in the session for
    the length of a batch so a thousand messages do not cost a thousand count queries."""
    counts = _ack_counts(session, [ticket.requester_email], clock)
    to = ticket.requester_email
    real_id = None if message_id.endswith("@synthetic>") else message_id
    email = acknowledge_ticket(
        session,
        ticket,
        in_reply_to=real_id,
        references=parsed.references if real_id else (),
        clock=clock,
        sent_recently=counts[to],
    )
    if email is not None:
        counts[to] += 1
    return email is not None


def _ack_counts(session: Session, senders: Iterable[str], clock: Clock) -> dict[str, int]:
    """The session's per-sender acknowledgement counts, fetched once per sender per batch
    and then kept up to date in memory."""
    counts: dict[str, int] = session.info.setdefault(ACK_COUNTS, {})
    missing = {s for s in senders if s not in counts}
    if missing:
        with session.no_autoflush:
            counts.update(acknowledgements_sent(session, missing, clock=clock))
    return counts


def reprocess_quarantined(
    session: Session, inbound_id: int, *, actor: str = "system", clock: Clock = system_clock
) -> IngestOutcome:
    """Run a quarantined message through the pipeline again (after a fix or a raised size
    limit). Tokens were masked when it was stored, so none can be hashed now. ``actor`` is
    an agent or admin (``staff:NAME``, verified now) or the operator's shell; else ``Forbidden``."""
    authorize_actor(session, actor, "mail.reprocess")
    row = session.get(InboundMessage, inbound_id)
    if row is None or row.status != "quarantined":
        raise NotFound(f"No quarantined inbound message {inbound_id}.")
    prep = _prepare(row.raw)
    if prep.parsed is None:
        outcome = IngestOutcome("quarantined", row.message_id, row.id, reason=prep.reason)
    else:
        outcome = _process_safely(
            session, row.id, row.message_id, prep.parsed, prep.evidence, clock
        )
    _finish(session, [outcome], clock)
    return _logged(outcome)


@dataclass
class SourceMessage:
    """One message from a source; ``done`` marks it handled there, called only after the
    transaction holding it committed."""

    raw: bytes
    source: str
    done: Callable[[], None] | None = None
    key: object = None


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
    """Ingest a stream in transactions of ``batch_size`` messages. After each commit the
    batch's messages are marked done at their source; a crash before that leaves them there,
    and the next run finds them already stored (a duplicate, not a second ticket).
    ``in_transaction`` lets a source save its own checkpoint in the same commit. With
    ``parse_processes`` (see ``default_parse_processes``), that many processes parse the
    next batch while this process writes the current one (the database writer stays
    single); with 0 this process does both."""
    report = report or IngestReport()
    batches = _batches(messages, max(1, batch_size))
    if parse_processes > 0:
        engine.dispose()  # no database connection may be inherited by a parse process
        with ProcessPoolExecutor(
            parse_processes, initializer=_exit_with_parent, initargs=(os.getpid(),)
        ) as pool:
            for batch, prepared in _prepared_ahead(pool, batches, parse_processes):
                _write_batch(engine, batch, prepared, clock, report, in_transaction, progress)
    else:
        for batch in batches:
            prepared = [_prepare(m.raw) for m in batch]
            _write_batch(engine, batch, prepared, clock, report, in_transaction, progress)
    return report


def default_parse_processes(total: int | None, batch_size: int) -> int:
    """Parse processes for an ingest of ``total`` messages (None: unknown). One is enough:
    preparing a message (parse, evidence, redaction) costs about half of writing it, so a
    single parser keeps the one writer busy; a second only competes with it for a core.
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


def _prepare_all(raws: list[bytes]) -> list[_Prepared]:
    return [_prepare(raw) for raw in raws]


def _prepared_ahead(
    pool: ProcessPoolExecutor, batches: Iterable[list[SourceMessage]], processes: int
) -> Iterator[tuple[list[SourceMessage], list[_Prepared]]]:
    """Each batch with its prepared messages, the next batch being prepared in ``pool``
    while the caller writes this one."""
    ahead: tuple[list[SourceMessage], list[Future[list[_Prepared]]]] | None = None
    for batch in batches:
        size = max(1, -(-len(batch) // (processes * 4)))
        chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
        futures = [pool.submit(_prepare_all, [m.raw for m in chunk]) for chunk in chunks]
        if ahead is not None:
            yield ahead[0], [p for f in ahead[1] for p in f.result()]
        ahead = (batch, futures)
    if ahead is not None:
        yield ahead[0], [p for f in ahead[1] for p in f.result()]


def _write_batch(
    engine: Engine,
    batch: list[SourceMessage],
    prepared: list[_Prepared],
    clock: Clock,
    report: IngestReport,
    in_transaction: Callable[[Session, list[SourceMessage]], None] | None,
    progress: Callable[[IngestOutcome], None] | None,
) -> None:
    """One batch in one transaction, then done at the source and counted."""
    try:
        outcomes = _ingest_batch(engine, batch, prepared, clock, in_transaction, False)
    except Exception as exc:
        if not _is_message_fault(exc):
            raise
        outcomes = _ingest_batch(engine, batch, prepared, clock, in_transaction, True)
    for message, outcome in zip(batch, outcomes, strict=True):
        _logged(outcome)
        if message.done is not None:
            message.done()
        report.add(outcome)
        if progress is not None:
            progress(outcome)


def _ingest_batch(
    engine: Engine,
    batch: list[SourceMessage],
    prepared: list[_Prepared],
    clock: Clock,
    in_transaction: Callable[[Session, list[SourceMessage]], None] | None,
    isolate: bool,
) -> list[IngestOutcome]:
    """One transaction for the batch. Parsing happened before it (no lock held while
    parsing); acknowledgement counts are fetched for all senders in one query. The fast
    pass has no savepoints; if a message makes it fail, the batch is redone with one
    savepoint per message so only that message is quarantined. Autoflush is off while
    processing: every lookup it makes reads rows written with plain INSERTs (ticket
    messages) or the identity map, and a reply cannot reference an acknowledgement that
    has not been sent, so pending audit and outbox rows can wait for one flush."""
    with session_scope(engine) as session:
        _ack_counts(session, [p.parsed.from_addr for p in prepared if p.parsed], clock)
        _remember_known_ids(session, [p.message_id for p in prepared if p.parsed])
        with session.no_autoflush:
            if isolate:
                outcomes = [
                    _ingest_prepared(session, prep, source=m.source, clock=clock, isolate=True)
                    for m, prep in zip(batch, prepared, strict=True)
                ]
            else:
                outcomes = _ingest_together(session, batch, prepared, clock)
        _finish(session, outcomes, clock)
        if in_transaction is not None:
            in_transaction(session, batch)
    return outcomes


def _ingest_together(
    session: Session, batch: list[SourceMessage], prepared: list[_Prepared], clock: Clock
) -> list[IngestOutcome]:
    """The fast pass: a run of new requests that thread into nothing (the common case) is
    written together by ``create_tickets``; any other message first writes the run so far,
    then goes through ``_process`` as usual, so it sees every earlier ticket of the batch."""
    refs = {r for p in prepared if p.parsed for r in p.parsed.thread_ids if r}
    known_refs = _known_references(session, refs)
    known_ids: set[str] = session.info[KNOWN_IDS]
    outcomes: list[IngestOutcome | None] = []
    pending: list[tuple[int, _Prepared, str]] = []
    pending_ids: set[str] = set()

    def write_pending() -> None:
        stored = insert_raw_many(session, [_raw_row(p, src, clock) for _, p, src in pending])
        requests: list[tuple[int, NewRequest]] = []
        for (index, prep, _), inbound_id in zip(pending, stored, strict=True):
            if inbound_id is None:
                outcomes[index] = IngestOutcome(
                    "duplicate", prep.message_id, reason="already stored"
                )
            else:
                assert prep.parsed is not None
                request = NewRequest(inbound_id, prep.message_id, prep.parsed, prep.evidence)
                requests.append((index, request))
        senders = [r.parsed.from_addr.lower() for _, r in requests]
        created = create_tickets(
            session,
            [r for _, r in requests],
            ack_counts=_ack_counts(session, senders, clock),
            clock=clock,
            note_incoming=lambda mid: _note_incoming(session, mid),
        )
        for (index, request), made in zip(requests, created, strict=True):
            outcomes[index] = IngestOutcome(
                "ticket",
                request.message_id,
                request.inbound_id,
                made.ticket_id,
                acknowledged=made.acknowledged,
            )
        pending.clear()
        pending_ids.clear()

    for message, prep in zip(batch, prepared, strict=True):
        parsed = prep.parsed
        if (
            parsed is not None
            and _stands_alone(parsed, prep.message_id, known_refs, known_ids)
            and pending_ids.isdisjoint([prep.message_id, *parsed.thread_ids])
        ):
            outcomes.append(None)
            pending.append((len(outcomes) - 1, prep, message.source))
            pending_ids.add(prep.message_id)
            continue
        if pending:
            write_pending()
        outcomes.append(
            _ingest_prepared(session, prep, source=message.source, clock=clock, isolate=False)
        )
    if pending:
        write_pending()
    return [o for o in outcomes if o is not None]


def _known_references(session: Session, refs: set[str]) -> set[str]:
    """Which of a batch's referenced Message-IDs belong to a ticket (one query per table)."""
    if not refs:
        return set()
    found = set(
        session.execute(
            select(TicketMessage.message_id).where(TicketMessage.message_id.in_(refs))
        ).scalars()
    )
    found.update(
        session.execute(
            select(OutboxEmail.message_id).where(
                OutboxEmail.message_id.in_(refs), OutboxEmail.ticket_id.is_not(None)
            )
        ).scalars()
    )
    return found


def _stands_alone(
    parsed: ParsedMessage, message_id: str, known_refs: set[str], known_ids: set[str]
) -> bool:
    """A request that can be neither a re-delivery nor part of a known conversation: a new
    ticket for sure, so it may be written with the others of its run."""
    if classify(parsed).kind != "request" or message_id in known_ids:
        return False
    if SUBJECT_TAG_RE.search(parsed.subject):
        return False
    return not any(r in known_refs or r in known_ids for r in parsed.thread_ids)


def _batches(items: Iterable[SourceMessage], size: int) -> Iterator[list[SourceMessage]]:
    batch: list[SourceMessage] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
