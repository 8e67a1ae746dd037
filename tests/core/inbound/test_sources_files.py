"""Maildir, mbox and .eml sources: marked done at the source only after the commit."""

from __future__ import annotations

import mailbox

import pytest
from sqlalchemy import event

from core.inbound import ingest_messages
from core.inbound.sources import count_messages, path_messages
from core.store.tables import Ticket
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email


def make_maildir(path, count):
    box = mailbox.Maildir(path, create=True)
    for i in range(count):
        box.add(recovery_email(sender=f"user{i}@example.com", subject=f"help {i}"))
    return path


def test_maildir_messages_move_to_cur_after_commit(sqlite_url, clock, tmp_path):
    from core.store import make_engine

    engine = make_engine(sqlite_url)
    maildir = make_maildir(tmp_path / "Maildir", 5)
    assert count_messages([maildir]) == 5
    report = ingest_messages(engine, path_messages([maildir]), clock=clock, batch_size=2)
    assert (report.seen, report.new_tickets) == (5, 5)
    assert list((maildir / "new").iterdir()) == []
    names = sorted(p.name for p in (maildir / "cur").iterdir())
    assert len(names) == 5 and all(n.endswith(":2,") for n in names)
    again = ingest_messages(engine, path_messages([maildir]), clock=clock)
    assert again.seen == 0


def test_failed_commit_leaves_maildir_untouched(sqlite_url, clock, tmp_path):
    from core.store import make_engine

    engine = make_engine(sqlite_url)
    maildir = make_maildir(tmp_path / "Maildir", 3)

    @event.listens_for(engine, "commit")
    def fail_commit(conn):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        ingest_messages(engine, path_messages([maildir]), clock=clock)
    assert len(list((maildir / "new").iterdir())) == 3
    event.remove(engine, "commit", fail_commit)
    report = ingest_messages(engine, path_messages([maildir]), clock=clock)
    assert report.new_tickets == 3
    assert Inbox(engine, clock).all(Ticket)[-1].id == 3


def test_mbox_and_eml_folder(engine, clock, tmp_path):
    mbox_path = tmp_path / "archive.mbox"
    box = mailbox.mbox(mbox_path)
    for i in range(3):
        box.add(recovery_email(sender=f"m{i}@example.com"))
    box.close()
    folder = tmp_path / "emls"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.eml").write_bytes(recovery_email(sender="a@example.com"))
    (folder / "sub" / "b.eml").write_bytes(recovery_email(sender="b@example.com"))
    (folder / ".hidden").write_bytes(b"ignored")
    paths = [mbox_path, folder]
    assert count_messages(paths) == 5
    report = ingest_messages(engine, path_messages(paths), clock=clock)
    assert (report.seen, report.new_tickets) == (5, 5)
    sources = {r.source.split(":", 1)[0] for r in Inbox(engine, clock).inbound()}
    assert sources == {"mbox", "eml"}
    assert ingest_messages(engine, path_messages(paths), clock=clock).duplicates == 5


def test_unreadable_path_is_reported_not_fatal(engine, clock, tmp_path):
    errors: list[str] = []
    good = tmp_path / "good.eml"
    good.write_bytes(recovery_email())
    report = ingest_messages(
        engine, path_messages([tmp_path / "missing.eml", good], errors), clock=clock
    )
    assert report.seen == 1 and len(errors) == 1 and "missing.eml" in errors[0]
