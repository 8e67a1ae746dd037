"""`backoffice ingest`, `backoffice tickets` and `backoffice smtpd` as an operator types them."""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import signal
import socket
import subprocess
import sys
import time

import aiosmtplib
from sqlalchemy import select
from typer.testing import CliRunner

from backoffice.cli import app
from core.store import session_scope
from core.store.tables import Ticket
from core.tickets.challenge import challenge_text
from tests.conftest import CORPUS_DIR, PROJECT_ROOT, require_corpus
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (fixtures)
from tests.support.mail import recovery_email

runner = CliRunner()
TOKEN = "hf_" + "MnBvCxZlKjHgFdSaPoIuYtReWqMnBvCxZl"


def cli(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_ingest_paths_json_report(engine):
    require_corpus()
    result = cli("ingest", str(CORPUS_DIR), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["seen"] == 27 and report["balanced"] is True
    again = json.loads(cli("ingest", "paths", str(CORPUS_DIR), "--json").stdout)
    assert again["duplicates"] == 27


def test_ingest_group_help_and_missing_path(engine, tmp_path):
    helped = cli("ingest", "--help")
    assert helped.exit_code == 0 and "imap" in helped.output and "paths" in helped.output
    assert "--password-stdin" in cli("ingest", "imap", "--help").output
    missing = cli("ingest", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "No such file" in missing.output


def test_ingest_maildir_plain_report(engine, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(recovery_email())
    result = cli("ingest", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert "seen 1 = new tickets 1" in " ".join(result.output.split())
    assert len(list((tmp_path / "Maildir" / "cur").iterdir())) == 1


def test_ingest_maildir_with_a_parse_process(engine, tmp_path):
    """Several batches parsed in a separate process: every message a ticket, each moved to
    cur/ after its batch committed, the report adding up."""
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for i in range(30):
        box.add(recovery_email(sender=f"user{i}@example.com", body=f"My username is user{i}."))
    result = cli(
        "ingest", str(tmp_path / "Maildir"), "--workers", "1", "--batch-size", "7", "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["seen"], report["new_tickets"], report["balanced"]) == (30, 30, True)
    assert len(list((tmp_path / "Maildir" / "cur").iterdir())) == 30
    assert not list((tmp_path / "Maildir" / "new").iterdir())
    with session_scope(engine, readonly=True) as s:
        claimed = set(s.execute(select(Ticket.claimed_username)).scalars())
    assert claimed == {f"user{i}" for i in range(30)}


def test_ingest_imap(engine, dovecot):  # noqa: F811
    dovecot.append(recovery_email(sender="imap@example.com"))
    result = cli(
        "ingest", "imap", "--host", dovecot.host, "--port", str(dovecot.port),
        "--user", dovecot.user, "--password-stdin", "--json",
        input=dovecot.password + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_tickets"] == 1
    unreachable = cli(
        "ingest", "imap", "--host", "127.0.0.1", "--port", str(_free_port()),
        "--user", dovecot.user, "--password-stdin", input="x\n",
    )  # fmt: skip
    assert unreachable.exit_code == 1 and "Cannot reach IMAP server" in unreachable.output


def test_tickets_list_show_and_challenge(engine, tmp_path):
    raw = recovery_email(body=f"username: alice\ntoken {TOKEN}")
    (tmp_path / "a.eml").write_bytes(raw)
    (tmp_path / "b.eml").write_bytes(recovery_email(sender="bob@example.com"))
    assert cli("ingest", str(tmp_path / "a.eml"), str(tmp_path / "b.eml")).exit_code == 0

    listed = json.loads(cli("tickets", "list", "--json").stdout)["tickets"]
    assert [t["id"] for t in listed] == [2, 1]
    assert cli("tickets", "list", "--status", "closed", "--json").stdout.count('"id"') == 0
    bad = cli("tickets", "list", "--status", "nonsense")
    assert bad.exit_code == 1 and "Unknown status" in bad.output

    shown = cli("tickets", "show", "1", "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["claimed_username"] == "alice"
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    assert {e["kind"]: e["value"] for e in detail["evidence"]}["token"] == "hf_…CxZl"
    assert "token_hash" not in detail["evidence"][0]
    text = cli("tickets", "show", "1")
    assert "username: alice" in text.output and "hf_…CxZl" in text.output
    assert TOKEN not in shown.output + text.output

    challenge = cli("tickets", "challenge", "1")
    with session_scope(engine, readonly=True) as s:
        assert challenge.stdout == challenge_text(s.get(Ticket, 1))
    missing = cli("tickets", "show", "99")
    assert missing.exit_code == 1 and "No ticket #99" in missing.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_smtpd_command_receives_mail(engine, db_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "BACKOFFICE_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from backoffice.cli import main; main()", "smtpd",
         "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "smtpd did not start"
                time.sleep(0.1)
        _errors, response = asyncio.run(
            aiosmtplib.send(
                recovery_email(),
                sender="alice@example.com",
                recipients=["website@huggingface.co"],
                hostname="127.0.0.1",
                port=port,
            )
        )
        assert response == "OK"  # nothing about the ticket it became
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    with session_scope(engine, readonly=True) as s:
        assert s.get(Ticket, 1).requester_email == "alice@example.com"
    assert "alice@example.com" not in proc.stdout.read().decode()


def test_quarantined_listed_and_reprocessed(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "300")
    from core.settings import get_settings

    get_settings.cache_clear()
    (tmp_path / "big.eml").write_bytes(recovery_email(body="x" * 600))
    assert json.loads(cli("ingest", str(tmp_path / "big.eml"), "--json").stdout)["quarantined"] == 1
    listed = json.loads(cli("ingest", "quarantined", "--json").stdout)["quarantined"]
    assert len(listed) == 1 and "exceeds" in listed[0]["reason"]
    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "100000")
    get_settings.cache_clear()
    done = cli("ingest", "reprocess", str(listed[0]["id"]), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "ticket"
    again = cli("ingest", "reprocess", str(listed[0]["id"]))
    assert again.exit_code == 1 and "No quarantined" in again.output
