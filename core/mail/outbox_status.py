"""The life of an outbox row (queued → sending → sent | failed) and the words for it."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    OutboxStatus.QUEUED: "Queued",
    OutboxStatus.SENDING: "Sending",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Failed",
}
