"""Ingest a message in its own transaction and read back what it produced (tests only)."""

from __future__ import annotations

from sqlmodel import select

from core.inbound import ingest_bytes
from core.store import session_scope
from core.store.tables import Evidence, InboundMessage, OutboxEmail, Ticket, TicketMessage


class Inbox:
    def __init__(self, engine, clock):
        self.engine = engine
        self.clock = clock

    def ingest(self, raw: bytes, source: str = "test"):
        with session_scope(self.engine) as s:
            return ingest_bytes(s, raw, source=source, clock=self.clock)

    def all(self, table):
        with session_scope(self.engine, readonly=True) as s:
            return list(s.exec(select(table).order_by(table.id)))

    def ticket(self, ticket_id: int) -> Ticket:
        with session_scope(self.engine, readonly=True) as s:
            return s.get(Ticket, ticket_id)

    def evidence(self, ticket_id: int) -> list[Evidence]:
        return [e for e in self.all(Evidence) if e.ticket_id == ticket_id]

    def messages(self, ticket_id: int) -> list[TicketMessage]:
        return [m for m in self.all(TicketMessage) if m.ticket_id == ticket_id]

    def outbox(self) -> list[OutboxEmail]:
        return self.all(OutboxEmail)

    def inbound(self) -> list[InboundMessage]:
        return self.all(InboundMessage)
