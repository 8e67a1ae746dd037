"""The IMAP source against a real Dovecot."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.inbound.sources import ImapConfig, ImapSource
from core.inbound.sources.imap import ImapError
from core.store import make_engine, session_scope
from core.store.tables import Ticket
from core.store.tables.inbound import ImapCheckpoint
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (fixtures)
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email


def config(server, **kw) -> ImapConfig:
    return ImapConfig(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        security="plain",
        **kw,
    )


def flags(server, folder="INBOX") -> dict[int, bytes]:
    conn = server.client()
    try:
        conn.select(folder)
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        out = {}
        for line in data:
            if line:
                uid = int(line.split(b"UID ")[1].split()[0].rstrip(b")"))
                out[uid] = line
        return out
    finally:
        conn.logout()


def test_imap_ingest_flags_after_commit_and_checkpoints(dovecot, engine, clock):  # noqa: F811
    uids = [dovecot.append(recovery_email(sender=f"u{i}@example.com")) for i in range(4)]
    conn = dovecot.client()
    conn.select("INBOX")
    conn.uid("STORE", str(uids[0]), "+FLAGS", "(\\Seen)")  # read by a person first
    conn.logout()

    source = ImapSource(config(dovecot), engine, clock=clock)
    report = source.run_once(batch_size=3)
    assert (report.seen, report.new_tickets, report.balanced) == (4, 4, True)
    assert all(b"\\Seen" in line for line in flags(dovecot).values())
    with session_scope(engine, readonly=True) as s:
        cp = s.exec(select(ImapCheckpoint)).one()
    assert cp.last_uid == max(uids) and cp.mailbox.endswith("/INBOX")
    assert {r.source for r in Inbox(engine, clock).inbound()} == {
        f"imap:{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"
    }

    assert source.run_once().seen == 0
    dovecot.append(recovery_email(sender="late@example.com"))
    assert source.run_once().new_tickets == 1
    assert len(flags(dovecot)) == 5  # nothing deleted


def test_uidvalidity_change_rereads_without_duplicating(dovecot, engine, clock):  # noqa: F811
    for i in range(2):
        dovecot.append(recovery_email(sender=f"v{i}@example.com"))
    source = ImapSource(config(dovecot), engine, clock=clock)
    source.run_once()
    with session_scope(engine) as s:
        cp = s.exec(select(ImapCheckpoint)).one()
        cp.uidvalidity += 1
        s.add(cp)
    again = source.run_once()
    assert (again.seen, again.duplicates) == (2, 2)
    assert len(Inbox(engine, clock).all(Ticket)) == 2


def test_move_to_folder_instead_of_flagging(dovecot, engine, clock):  # noqa: F811
    conn = dovecot.client()
    conn.create("Processed")
    conn.logout()
    dovecot.append(recovery_email())
    report = ImapSource(config(dovecot, move_to="Processed"), engine, clock=clock).run_once()
    assert report.new_tickets == 1
    assert flags(dovecot) == {}
    assert len(flags(dovecot, "Processed")) == 1


def test_wrong_password_is_a_clear_error(dovecot, sqlite_url):  # noqa: F811
    bad = ImapConfig(dovecot.host, dovecot.port, dovecot.user, "wrong", security="plain")
    with pytest.raises(ImapError, match="login"):
        ImapSource(bad, make_engine(sqlite_url)).run_once()


def test_watch_picks_up_new_mail_until_stopped(dovecot, engine, clock):  # noqa: F811
    import threading
    import time

    source = ImapSource(config(dovecot), engine, clock=clock)
    stop = threading.Event()
    runner = threading.Thread(target=source.watch, args=(0.1,), kwargs={"stop": stop})
    runner.start()
    try:
        dovecot.append(recovery_email(sender="watched@example.com"))
        deadline = time.monotonic() + 10
        while not Inbox(engine, clock).all(Ticket):
            assert time.monotonic() < deadline, "watch did not ingest the new message"
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert Inbox(engine, clock).all(Ticket)[0].requester_email == "watched@example.com"
