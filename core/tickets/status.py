"""A ticket's status and the words staff read for it."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    AWAITING_USER = "awaiting_user"
    APPROVED = "approved"
    DENIED = "denied"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN


_LABELS = {
    TicketStatus.NEW: "New",
    TicketStatus.OPEN: "Open",
    TicketStatus.AWAITING_USER: "Waiting for the requester",
    TicketStatus.APPROVED: "Approved",
    TicketStatus.DENIED: "Denied",
    TicketStatus.CLOSED: "Closed",
}
OPEN = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.AWAITING_USER)
"""Statuses that still need a decision or the requester's answer."""
