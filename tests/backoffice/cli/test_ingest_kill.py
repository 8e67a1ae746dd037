"""A real `backoffice ingest` process killed with SIGKILL mid-run loses and duplicates
nothing: the restart finds every message, each stored exactly once."""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from core.store import session_scope
from core.store.tables import InboundMessage, Ticket
from tests.conftest import PROJECT_ROOT
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (fixtures)
from tests.support.mail import recovery_email

CLI = [sys.executable, "-c", "from backoffice.cli import main; main()"]


def _start(args, db_url, cwd, stdin=None):
    env = {**os.environ, "BACKOFFICE_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stored(engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return s.execute(select(func.count()).select_from(InboundMessage)).scalar()


def _kill_after(proc, engine, at_least: int, timeout: float = 60) -> int:
    """SIGKILL ``proc`` once ``at_least`` messages are committed; returns the count then."""
    deadline = time.monotonic() + timeout
    while (n := _stored(engine)) < at_least:
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return n


def _processes_running(marker: str) -> list[int]:
    """Pids whose command line holds ``marker`` (a path only one test uses)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def _assert_each_once(engine, total: int) -> None:
    with session_scope(engine, readonly=True) as s:
        rows = s.execute(select(InboundMessage.sha256, InboundMessage.status)).all()
        tickets = s.execute(select(func.count()).select_from(Ticket)).scalar()
    assert len(rows) == total and len({sha for sha, _ in rows}) == total
    assert {status for _, status in rows} == {"ticket"}
    assert tickets == total


def test_maildir_ingest_killed_midway_resumes_exactly(engine, db_url, tmp_path):
    total = 100
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for i in range(total):
        box.add(recovery_email(sender=f"user{i}@example.com", subject=f"help {i}"))
    args = ["ingest", str(tmp_path / "Maildir"), "--batch-size", "1"]

    proc = _start(args, db_url, tmp_path)
    killed_at = _kill_after(proc, engine, at_least=10)
    assert proc.returncode == -signal.SIGKILL
    assert killed_at < total, "the ingest finished before it could be killed"
    deadline = time.monotonic() + 10  # its parse process follows it, holding nothing
    while _processes_running(str(tmp_path / "Maildir")):
        assert time.monotonic() < deadline, "a parse process outlived the killed ingest"
        time.sleep(0.1)
    left = len(list((tmp_path / "Maildir" / "new").iterdir()))
    assert left >= total - _stored(engine)  # nothing moved before its commit

    finish = _start([*args[:-2], "--json"], db_url, tmp_path)
    out, _ = finish.communicate(timeout=120)
    assert finish.returncode == 0, out.decode()
    _assert_each_once(engine, total)
    assert list((tmp_path / "Maildir" / "new").iterdir()) == []
    assert len(list((tmp_path / "Maildir" / "cur").iterdir())) == total


def test_imap_ingest_killed_midway_resumes_exactly(engine, db_url, tmp_path, dovecot):  # noqa: F811
    total = 80
    dovecot.append_many(
        [recovery_email(sender=f"imap{i}@example.com", subject=f"imap {i}") for i in range(total)]
    )
    args = [
        "ingest", "imap", "--host", dovecot.host, "--port", str(dovecot.port),
        "--user", dovecot.user, "--password-stdin", "--batch-size", "1",
    ]  # fmt: skip

    proc = _start(args, db_url, tmp_path, stdin=True)
    proc.stdin.write(dovecot.password.encode() + b"\n")
    proc.stdin.close()
    killed_at = _kill_after(proc, engine, at_least=10)
    assert killed_at < total, "the ingest finished before it could be killed"

    finish = _start(args, db_url, tmp_path, stdin=True)
    out, _ = finish.communicate(dovecot.password.encode() + b"\n", timeout=120)
    assert finish.returncode == 0, out.decode()
    _assert_each_once(engine, total)

    conn = dovecot.client()
    conn.select("INBOX")
    _typ, unseen = conn.uid("SEARCH", None, "UNSEEN")
    _typ, every = conn.uid("SEARCH", None, "ALL")
    conn.logout()
    assert unseen == [b""] and len(every[0].split()) == total
