"""Long-running processes: heartbeats, retry of transient faults, signals, log format."""

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
