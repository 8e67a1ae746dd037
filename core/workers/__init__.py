"""Long-running processes: heartbeats, retry of transient faults, signals, log format.

The heartbeat names load on first use: a one-shot command that only needs ``faults`` (the
outbox sender) does not import the heartbeat table and the dialects' upserts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.workers.heartbeats import (
        DEGRADED,
        RUNNING,
        STOPPED,
        Heartbeat,
        WorkerIdentity,
        beat,
        list_heartbeats,
        prune_heartbeats,
    )

__all__ = [
    "DEGRADED",
    "RUNNING",
    "STOPPED",
    "Heartbeat",
    "WorkerIdentity",
    "beat",
    "list_heartbeats",
    "prune_heartbeats",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from core.workers import heartbeats

    return getattr(heartbeats, name)
