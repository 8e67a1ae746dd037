"""Heartbeats are one upserted row per worker, read back as plain dataclasses."""

from __future__ import annotations

import dataclasses

import pytest

from core.store import session_scope
from core.workers import STOPPED, Heartbeat, WorkerIdentity, beat, list_heartbeats


def test_a_beat_inserts_then_updates_one_row_and_stopping_is_recorded(engine, clock):
    me = WorkerIdentity(kind="outbox-sender", host="h1", pid=42, started_at=clock())
    other = WorkerIdentity(kind="smtpd", host="h2", pid=7, started_at=clock())
    beat(engine, me, clock=clock, details={"connections": 4})
    beat(engine, other, clock=clock)
    clock.advance(seconds=5)
    with session_scope(engine) as s:
        beat(s, me, clock=clock, details={"connections": 4, "sent": 10})
    clock.advance(seconds=5)
    beat(engine, other, status=STOPPED, clock=clock)

    with session_scope(engine, readonly=True) as s:
        rows = list_heartbeats(s)
        (only_sender,) = list_heartbeats(s, kind="outbox-sender")
    assert [r.worker_id for r in rows] == ["h1:42:outbox-sender", "h2:7:smtpd"]
    assert only_sender == rows[0]
    assert isinstance(only_sender, Heartbeat)
    assert (only_sender.status, only_sender.pid, only_sender.host) == ("running", 42, "h1")
    assert only_sender.started_at == me.started_at
    assert only_sender.details == {"connections": 4, "sent": 10}
    assert only_sender.silent_for(clock()) == 5
    assert rows[1].status == "stopped" and rows[1].last_seen_at == clock()
    with pytest.raises(dataclasses.FrozenInstanceError):
        only_sender.status = "x"  # type: ignore[misc]


def test_the_current_process_identity_names_host_pid_and_kind(clock):
    import os

    me = WorkerIdentity.current("imap", clock=clock)
    assert me.worker_id.endswith(f":{os.getpid()}:imap")
    assert me.started_at == clock()


def test_workers_silent_for_long_are_forgotten(engine, clock):
    from datetime import timedelta

    from core.workers import prune_heartbeats

    old = WorkerIdentity(kind="smtpd", host="h", pid=1, started_at=clock())
    beat(engine, old, status=STOPPED, clock=clock)
    clock.advance(days=8)
    recent = WorkerIdentity(kind="smtpd", host="h", pid=2, started_at=clock())
    beat(engine, recent, clock=clock)
    with session_scope(engine) as s:
        assert prune_heartbeats(s, older_than=timedelta(days=7), clock=clock) == 1
    with session_scope(engine, readonly=True) as s:
        assert [h.pid for h in list_heartbeats(s)] == [2]
