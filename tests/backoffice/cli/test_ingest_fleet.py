"""A fleet of real `backoffice ingest` processes over copies of the same mail (what several
MX hosts, or an IMAP and an SMTP source, deliver): one ticket per email and the per-sender
acknowledgement limit held, on SQLite and PostgreSQL (issue 14)."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from collections import Counter

from sqlalchemy import select

from core.store import session_scope
from core.store.tables import OutboxEmail, Ticket
from core.tickets.acknowledgement import address_key
from tests.conftest import PROJECT_ROOT
from tests.support.mail import recovery_email

CLI = [sys.executable, "-c", "from backoffice.cli import main; main()"]
EMAILS = 2000
MAILBOXES = 500
"""Each mailbox writes 4 different emails, some from ``+tag`` variants of its address."""
COPIES = 4


def _emails() -> list[bytes]:
    emails = []
    for i in range(EMAILS):
        box = i % MAILBOXES
        tag = f"+{i}" if i % 3 else ""
        emails.append(
            recovery_email(
                sender=f"User {box} <user{box}{tag}@example.com>",
                subject=f"Locked out ({i})",
                body=f"My username is user{box}. Request {i}.",
                message_id=f"<fleet-{i}@example.com>",
            )
        )
    return emails


def _maildir(path, emails: list[bytes], copy: int) -> None:
    box = mailbox.Maildir(path, create=True)
    for raw in emails:
        box.add(f"Received: from mx{copy}.example.com by inbound{copy}\r\n".encode() + raw)


def test_four_ingest_processes_over_four_copies(engine, db_url, tmp_path, monkeypatch):
    emails = _emails()
    for copy in range(COPIES):
        _maildir(tmp_path / f"mx{copy}", emails, copy)
    env = {
        **os.environ,
        "BACKOFFICE_DATABASE_URL": db_url,
        "BACKOFFICE_ACK_MAX_PER_HOUR": "1000000",  # the per-sender limit is under test
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    procs = [
        subprocess.Popen(
            [*CLI, "ingest", str(tmp_path / f"mx{copy}"), "--json"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for copy in range(COPIES)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-3000:]
        reports.append(json.loads(out))
    assert all(r["balanced"] and r["seen"] == EMAILS for r in reports)
    assert sum(r["new_tickets"] for r in reports) == EMAILS
    assert sum(r["duplicates"] for r in reports) == EMAILS * (COPIES - 1)
    for copy in range(COPIES):
        assert not os.listdir(tmp_path / f"mx{copy}" / "new")

    with session_scope(engine, readonly=True) as s:
        tickets = s.execute(select(Ticket.last_inbound_message_id)).scalars().all()
        acks = s.execute(select(OutboxEmail.to_addr)).scalars().all()
    assert len(tickets) == len(set(tickets)) == EMAILS
    per_mailbox = Counter(address_key(to) for to in acks)
    assert len(per_mailbox) == MAILBOXES
    assert set(per_mailbox.values()) == {3}  # 4 emails each, the daily limit is 3
