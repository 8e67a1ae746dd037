"""Real ``backoffice outbox send --watch`` processes against a relay 5-20 ms away: several
at once send each email exactly once; SIGTERM finishes what is in flight, puts the rest back
to ``queued`` at once and exits 0; after kill -9 another sender takes the dead one's rows
over when the lease ends, re-sending at most the messages that were in flight."""

from __future__ import annotations

import time

import pytest

from tests.support.long_running import Command, outbox_counts, queue_emails, sent_ids
from tests.support.own_postgres import wait_until
from tests.support.slow_relay import SlowRelay
from tests.support.smtp_sink import free_port

CONNECTIONS = 4


@pytest.fixture
def relay():
    def start(delay: float) -> SlowRelay:
        server = SlowRelay(free_port(), delay=delay)
        server.start()
        started.append(server)
        return server

    started: list[SlowRelay] = []
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def senders(tmp_path, db_url):
    """Start ``outbox send --watch`` processes sending to ``relay``; all end with the test."""

    def start(relay: SlowRelay, **settings: str) -> Command:
        env = {
            "BACKOFFICE_DATABASE_URL": db_url,
            "BACKOFFICE_SMTP_PORT": str(relay.port),
            "BACKOFFICE_SMTP_CONNECTIONS": str(CONNECTIONS),
            "BACKOFFICE_HEARTBEAT_SECONDS": "1",
            **{f"BACKOFFICE_{k.upper()}": v for k, v in settings.items()},
        }
        n = len(started)
        command = Command(
            ["outbox", "send", "--watch", "0.2"], env=env, log=tmp_path / f"sender{n}.log"
        )
        started.append(command)
        return command

    started: list[Command] = []
    yield start
    for command in started:
        command.close()


def test_four_sender_processes_send_every_email_exactly_once(engine, relay, senders):
    ids = queue_emails(engine, 400)
    sink = relay(0.005)
    fleet = [senders(sink) for _ in range(4)]
    wait_until(lambda: outbox_counts(engine).get("sent") == 400, 120, "400 emails sent")
    assert [c.terminate() for c in fleet] == [0, 0, 0, 0], [c.output() for c in fleet]
    assert sink.handler.duplicates() == {}
    assert set(sink.handler.received) == ids == sent_ids(engine)
    busy = [c for c in fleet if "started" in c.output()]
    assert len(busy) == 4


def test_sigterm_finishes_in_flight_puts_claims_back_at_once_and_exits_0(engine, relay, senders):
    ids = queue_emails(engine, 600)
    sink = relay(0.020)
    sender = senders(sink, outbox_lease_seconds="300")
    wait_until(lambda: sink.handler.total >= 60, 60, "the sender to get going")
    began = time.monotonic()
    assert sender.terminate() == 0, sender.output()
    assert time.monotonic() - began < 10
    counts = outbox_counts(engine)
    assert counts.get("sending", 0) == 0, counts  # not left for the 300 s lease
    assert counts["queued"] > 0, "the sender finished before it was stopped"
    # every message the relay got is recorded as sent: nothing in flight was cut off
    assert set(sink.handler.received) == sent_ids(engine)
    assert sink.handler.duplicates() == {}
    assert "SIGTERM received" in sender.output() and "stopped cleanly" in sender.output()

    sink.delay = 0.001  # the rest only has to arrive, once each
    finisher = senders(sink)
    wait_until(lambda: outbox_counts(engine).get("sent") == 600, 120, "the rest sent")
    assert finisher.terminate() == 0
    assert sink.handler.duplicates() == {}
    assert set(sink.handler.received) == ids


def test_a_killed_senders_rows_are_taken_over_when_its_lease_ends(engine, relay, senders):
    """kill -9: the dead sender's claimed rows wait for its lease (3 s here, 30 s by
    default) and are then sent by another; duplicates are at most the messages it had in
    flight (one per connection)."""
    ids = queue_emails(engine, 500)
    sink = relay(0.020)
    lease = {"outbox_lease_seconds": "3", "outbox_lease_renew_seconds": "1"}
    doomed = senders(sink, **lease)
    wait_until(lambda: sink.handler.total >= 60, 60, "the sender to get going")
    doomed.kill()
    held = outbox_counts(engine).get("sending", 0)
    assert held > 0, "the killed sender held no claimed rows"

    killed_at = time.monotonic()
    sink.delay = 0.002  # the takeover, not the relay's distance, is what is timed now
    survivor = senders(sink, **lease)
    wait_until(lambda: outbox_counts(engine).get("sent") == 500, 120, "every email sent")
    assert survivor.terminate() == 0, survivor.output()
    assert set(sink.handler.received) == ids
    duplicates = sink.handler.duplicates()
    assert sum(n - 1 for n in duplicates.values()) <= CONNECTIONS, duplicates
    assert time.monotonic() - killed_at < 60


def test_the_dead_senders_leases_block_nobody_for_longer_than_the_lease(engine, relay, senders):
    """After kill -9 with every row claimed, a new sender starts sending them once the lease
    ends (3 s here) plus a poll, not after a fixed 300 s."""
    queue_emails(engine, 200)
    sink = relay(0.020)
    lease = {"outbox_lease_seconds": "3", "outbox_lease_renew_seconds": "1"}
    doomed = senders(sink, **lease, outbox_batch_size="200")  # claims everything at once
    wait_until(lambda: sink.handler.total >= 20, 60, "the sender to get going")
    assert outbox_counts(engine).get("queued", 0) == 0  # all of it is held by the doomed one
    survivor = senders(sink, **lease)
    wait_until(lambda: "started" in survivor.output(), 60, "the second sender to start")
    doomed.kill()
    killed_at, before = time.monotonic(), sink.handler.total
    wait_until(lambda: sink.handler.total > before, 30, "the takeover")
    assert time.monotonic() - killed_at < 3 + 2  # the lease, a poll, one message
    sink.delay = 0.001
    wait_until(lambda: outbox_counts(engine).get("sent") == 200, 60, "every email sent")
    assert survivor.terminate() == 0
