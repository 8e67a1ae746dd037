"""A dump of the database holds no secret in the clear (invariant 3), and no access token
sent by email survives anywhere (issue #10 items 1-3): every disguise of
``tests.support.token_disguises`` goes through the real pipeline, as a ticket and as
quarantined mail, is decided, and then every table, the raw SQLite file and its WAL, every
log line and every outgoing message (as built for the wire) is read for it."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from core.accounts.tokens import issue_token
from core.accounts.users import create_user
from core.decisions import deny_ticket
from core.inbound.pipeline import ingest_bytes, reprocess_quarantined
from core.mail.message import build_message
from core.store import session_scope
from core.store.tables import Evidence, InboundMessage, OutboxEmail, Ticket, TicketMessage
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.recovery_codes import normalize_code
from core.twofactor.totp import code_at_step, time_step
from tests.support.mail import recovery_email
from tests.support.staff_members import add_staff
from tests.support.token_disguises import (
    DISGUISES,
    build_unique,
    leaks,
    readable_letters,
    token_for,
)


def dump_database(engine) -> str:
    """Every row of every table as text, plus the raw SQLite files when there are any."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal"):
            path = Path(f"{url.database}{suffix}")
            if path.exists():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_dump_holds_no_password_totp_secret_recovery_code_or_token(engine, clock):
    password = "Tr0ub4dor&3-horse"
    with session_scope(engine) as s:
        user = create_user(
            s, username="alice", email="a@example.com", password=password, clock=clock
        )
        prov = begin_enrolment(s, user=user, clock=clock)
        codes = confirm_enrolment(
            s, user=user, pin=code_at_step(prov.secret, time_step(clock())), clock=clock
        )
        token = issue_token(s, user=user, name="laptop", clock=clock).plaintext
    dump = dump_database(engine)
    assert "alice" in dump  # the dump does see the data
    secrets = [password, prov.secret, prov.grouped_secret, token, token[3:]]
    for code in codes.codes:
        secrets += [code, normalize_code(code), code.upper()]
    leaked = [s for s in secrets if s in dump]
    assert leaked == []


def _without_sender(raw: bytes) -> bytes:
    """The same mail with no From: it is quarantined, raw copy kept."""
    return raw.replace(b"From: Alice", b"X-Was-From: Alice", 1)


def test_no_disguised_token_survives_storage_logs_or_outgoing_mail(engine, clock, caplog):
    caplog.set_level(logging.DEBUG)
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
    tokens: dict[str, str] = {}
    quarantined: list[int] = []
    for n, disguise in enumerate(DISGUISES):
        token, raw = build_unique(disguise, n)
        tokens[disguise.name] = token
        with session_scope(engine) as s:
            ingest_bytes(s, raw, source="test", clock=clock)
        with session_scope(engine) as s:
            held = ingest_bytes(s, _without_sender(raw), source="test", clock=clock)
        assert held.status == "quarantined", disguise.name
        quarantined.append(held.inbound_id)
    for inbound_id in quarantined:  # "tokens were masked when it was stored": true now
        with session_scope(engine) as s:
            reprocess_quarantined(s, inbound_id, clock=clock)
    with session_scope(engine) as s:
        from_quarantine = s.execute(
            select(Evidence.id)
            .join(TicketMessage, TicketMessage.id == Evidence.ticket_message_id)
            .where(TicketMessage.inbound_message_id.in_(quarantined))
            .where(Evidence.token_hash.is_not(None))
        )
        assert from_quarantine.scalars().all() == []
        open_tickets = select(Ticket.id).where(Ticket.status.in_(("new", "open")))
        ticket_ids = s.execute(open_tickets).scalars().all()
    for tid in ticket_ids:
        with session_scope(engine) as s:
            deny_ticket(s, ticket_id=tid, staff="sam", reason="No proof.", clock=clock)

    with session_scope(engine) as s:
        raws = s.execute(select(InboundMessage.raw)).scalars().all()
        rows = s.execute(select(OutboxEmail)).scalars().all()
        outgoing = [build_message(row).as_bytes() for row in rows]
    assert len(raws) == 2 * len(DISGUISES) and outgoing
    places = {
        "stored raw copy": [view for raw in raws for view in readable_letters(raw)],
        "database dump or SQLite file": readable_letters(dump_database(engine)),
        "log lines": readable_letters("\n".join(r.getMessage() for r in caplog.records)),
        "outgoing mail": [view for mail in outgoing for view in readable_letters(mail)],
    }
    leaked = {
        name: where
        for name, token in tokens.items()
        for where, letters in places.items()
        if leaks(letters, token)
    }
    assert leaked == {}


def test_a_token_in_threading_headers_is_not_echoed_back(engine, clock):
    """Issue #10 item 1: ``References: <hf_...@x>`` used to reach ``outbox_emails.headers``
    and the acknowledgement's References verbatim."""
    token = token_for("threading")
    raw = recovery_email(
        message_id=f"<{token}@mail.example>",
        in_reply_to=f"<{token.upper()}@x>",
        references=f"<clean-1@mail.example> <{token}@x> <HF-{token[3:]}@x>",
    )
    with session_scope(engine) as s:
        outcome = ingest_bytes(s, raw, source="test", clock=clock)
    assert outcome.acknowledged
    with session_scope(engine) as s:
        (ack,) = s.execute(select(OutboxEmail)).scalars().all()
        message = build_message(ack)
    assert ack.headers["References"] == "<clean-1@mail.example>"
    assert "In-Reply-To" not in ack.headers  # the request's own id held the token
    assert not leaks(repr(ack.headers), token) and not leaks(message.as_bytes(), token)
    assert not leaks(dump_database(engine), token)
