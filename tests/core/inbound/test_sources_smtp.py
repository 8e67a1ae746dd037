"""The SMTP receiver: a real aiosmtpd server and a real aiosmtplib client."""

from __future__ import annotations

import asyncio
import socket

import aiosmtplib
import pytest

from core.inbound.sources import InboundHandler, start_receiver
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver(engine, clock):
    def start(handler=None):
        port = free_port()
        controller = start_receiver(engine, port=port, clock=clock, handler=handler)
        started.append(controller)
        return port

    started = []
    yield start
    for controller in started:
        controller.stop()


def send(port: int, raw: bytes, sender: str = "alice@example.com"):
    async def run():
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            return await client.sendmail(sender, ["website@huggingface.co"], raw)

    return asyncio.run(run())


def test_message_sent_over_smtp_becomes_a_ticket(receiver, engine, clock):
    port = receiver()
    _errors, response = send(port, recovery_email(subject="Help over SMTP"))
    assert response == "OK"
    inbox = Inbox(engine, clock)
    (row,) = inbox.inbound()
    assert row.source == "smtp" and row.status == "ticket"
    assert row.raw.startswith(b"Return-Path: <alice@example.com>\r\n")
    assert inbox.ticket(1).subject == "Help over SMTP"


def test_null_sender_is_recorded_as_bounce(receiver, engine, clock):
    port = receiver()
    send(port, recovery_email(sender="someone@example.com"), sender="")
    assert Inbox(engine, clock).inbound()[0].status == "bounce"


def test_storage_failure_answers_451_so_the_sender_retries(receiver, engine, clock):
    def broken(raw):
        raise OSError("database unavailable")

    port = receiver(InboundHandler(engine, clock=clock, store=broken))
    with pytest.raises(aiosmtplib.SMTPDataError) as info:
        send(port, recovery_email())
    assert info.value.code == 451
    assert Inbox(engine, clock).inbound() == []


def test_the_reply_tells_nothing_about_what_the_message_became(receiver, engine, clock):
    """A plain ``250 OK`` for a new ticket, a reply threaded into it and a duplicate: the
    reply is no oracle for ticket numbers or open requests."""
    port = receiver()
    first = recovery_email(subject="Locked out", message_id="<first@example.com>")
    answers = [send(port, first)[1], send(port, first)[1]]
    reply = recovery_email(
        subject="Re: Locked out",
        message_id="<second@example.com>",
        in_reply_to="<first@example.com>",
    )
    answers.append(send(port, reply)[1])
    assert answers == ["OK", "OK", "OK"]
    assert sorted(r.status for r in Inbox(engine, clock).inbound()) in (
        ["threaded", "ticket"],
        ["duplicate", "threaded", "ticket"],
    )


def test_stopping_lets_a_message_being_stored_commit_and_be_answered(engine, clock):
    """SIGTERM while a message is being stored: the port closes, the message commits and
    the client still gets its 250 (not a cut connection that makes it send again)."""
    import threading
    import time

    from core.inbound.sources import stop_receiver

    handler = InboundHandler(engine, clock=clock)
    storing = threading.Event()

    def slow_store(raw):
        storing.set()
        time.sleep(1)
        return handler._store(raw)

    handler.store = slow_store
    port = free_port()
    controller = start_receiver(engine, port=port, clock=clock, handler=handler)
    answers = []
    client = threading.Thread(target=lambda: answers.append(send(port, recovery_email())[1]))
    client.start()
    assert storing.wait(10)
    stop_receiver(controller, grace=5)
    client.join(timeout=10)
    assert answers == ["OK"]
    assert len(Inbox(engine, clock).inbound()) == 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
