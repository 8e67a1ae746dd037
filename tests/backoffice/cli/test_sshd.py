"""``backoffice sshd`` against the real OpenSSH client: keys from ssh-keygen, the password
fed through SSH_ASKPASS (no terminal: setsid), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from backoffice.cli import app
from core.accounts.ssh_keys import add_ssh_key
from core.accounts.users import create_user
from core.errors import InvalidCode
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, User, WorkerHeartbeat
from core.twofactor import begin_enrolment, confirm_enrolment, use_recovery_code
from core.twofactor.recovery_codes import remaining_codes
from core.twofactor.totp import code_at_step, time_step
from tests.conftest import require
from tests.support.ssh import KeyPair, make_key

PASSWORD = "correct horse battery"
CODE = re.compile(r"^[0-9a-z]{4}(-[0-9a-z]{4}){3}$")
BACKOFFICE = [sys.executable, "-c", "from backoffice.cli import main; main()"]
LISTENING = re.compile(r"SSH recovery on [\d.]+:(\d+) \(host key (SHA256:\S+)\)")


@dataclass
class Account:
    username: str
    key: KeyPair
    codes: list[str]


@dataclass
class Sshd:
    process: subprocess.Popen
    port: int
    host_key: str
    output: list[str]

    def log(self) -> str:
        """Everything the server printed so far (reads what is buffered, after a stop)."""
        return "\n".join(self.output)


def start_sshd(db_url: str, *extra_env: tuple[str, str]) -> Sshd:
    env = dict(os.environ, **dict(extra_env))
    process = subprocess.Popen(
        [*BACKOFFICE, "sshd", "--port", "0", "--db", db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line.rstrip("\n"))
        match = LISTENING.search(line)
        if match:
            return Sshd(process, int(match.group(1)), match.group(2), output)
    process.kill()
    raise AssertionError("sshd did not start:\n" + "\n".join(output))


def stop_sshd(server: Sshd, how: signal.Signals = signal.SIGTERM) -> int:
    server.process.send_signal(how)
    rest, _ = server.process.communicate(timeout=30)
    server.output.extend(rest.splitlines())
    return server.process.returncode


SHORT_GRACE_SECONDS = 3
"""The login grace of the server that tests dropping a silent client. Other tests keep the
default: a busy machine can take longer than this for a key check and a password hash."""


@pytest.fixture
def sshd(request, engine, db_url):
    require(shutil.which("ssh") is not None, "the OpenSSH client (openssh-client) is missing")
    require(shutil.which("setsid") is not None, "setsid (util-linux) is missing")
    grace = getattr(request, "param", None)
    extra = [("BACKOFFICE_SSH_LOGIN_GRACE_SECONDS", str(grace))] if grace else []
    server = start_sshd(db_url, *extra)
    yield server
    if server.process.poll() is None:
        stop_sshd(server)


def make_account(
    engine, tmp_path, username: str, *, two_factor: bool = True, password: str = PASSWORD
) -> Account:
    key = make_key(tmp_path, comment=f"{username}@laptop")
    with session_scope(engine) as s:
        user = create_user(s, username=username, email=f"{username}@example.com", password=password)
        add_ssh_key(s, user=user, public_key=key.public_line)
        codes: list[str] = []
        if two_factor:
            prov = begin_enrolment(s, user=user)
            codes = confirm_enrolment(
                s, user=user, pin=code_at_step(prov.secret, time_step(user.created_at))
            ).codes
    return Account(username=username, key=key, codes=codes)


def ssh(
    server: Sshd,
    key: KeyPair,
    password: str,
    tmp_path: Path,
    login: str = "recovery",
    command: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """``ssh -p PORT recovery@127.0.0.1`` with the password typed by an askpass program."""
    askpass = tmp_path / "askpass.sh"
    askpass.write_text('#!/bin/sh\nprintf "%s\\n" "$RECOVERY_TEST_PASSWORD"\n')
    askpass.chmod(0o700)
    env = dict(
        os.environ,
        SSH_ASKPASS=str(askpass),
        SSH_ASKPASS_REQUIRE="force",
        DISPLAY=":0",
        RECOVERY_TEST_PASSWORD=password,
    )
    return subprocess.run(
        [
            "setsid",
            "-w",
            "ssh",
            "-p",
            str(server.port),
            "-i",
            str(key.private_path),
            "-F",
            "/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "PreferredAuthentications=publickey,keyboard-interactive",
            "-o",
            "NumberOfPasswordPrompts=1",
            "-o",
            "LogLevel=ERROR",
            f"{login}@127.0.0.1",
            *command,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def codes_work(engine, username: str, codes: list[str]) -> list[bool]:
    """Whether each code is still accepted (spending the ones that are)."""
    results = []
    for code in codes:
        try:
            with session_scope(engine) as s:
                user = s.exec(select(User).where(User.username == username)).one()
                use_recovery_code(s, user=user, code=code)
            results.append(True)
        except InvalidCode:
            results.append(False)
    return results


def events(engine, action: str) -> list[AuditEvent]:
    with session_scope(engine, readonly=True) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_key_and_password_give_new_codes_and_the_old_ones_die(engine, sshd, tmp_path):
    alice = make_account(engine, tmp_path, "alice")
    done = ssh(sshd, alice.key, PASSWORD, tmp_path)
    assert done.returncode == 0, done.stderr
    new = [line.strip() for line in done.stdout.splitlines() if CODE.match(line.strip())]
    assert len(new) == 16 and not set(new) & set(alice.codes)
    assert "Every earlier code has stopped working" in done.stdout
    assert codes_work(engine, "alice", alice.codes[:2] + new[:1]) == [False, False, True]
    [event] = events(engine, "2fa.recovery_codes_replaced_over_ssh")
    assert event.details["fingerprint"] == alice.key.keygen_fingerprint()
    with session_scope(engine, readonly=True) as s:
        [mail] = s.exec(
            select(OutboxEmail).where(OutboxEmail.template == "recovery_codes_replaced_over_ssh")
        ).all()
    assert mail.to_addr == "alice@example.com" and new[0] not in mail.body_text
    assert stop_sshd(sshd) == 0
    log = sshd.log()
    assert f"key={alice.key.keygen_fingerprint()} account=alice recovery codes replaced" in log
    assert PASSWORD not in log and not any(code in log for code in new)


def test_own_username_and_gitlabs_command_work_too(engine, sshd, tmp_path):
    alice = make_account(engine, tmp_path, "alice")
    done = ssh(sshd, alice.key, PASSWORD, tmp_path, login="alice", command=("2fa_recovery_codes",))
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stdout.splitlines() if CODE.match(line.strip())]) == 16


def test_wrong_password_is_refused_and_counted(engine, sshd, tmp_path):
    alice = make_account(engine, tmp_path, "alice")
    refused = ssh(sshd, alice.key, "not the password", tmp_path)
    assert refused.returncode == 255
    assert "Permission denied" in refused.stderr and not CODE.search(refused.stdout)
    with session_scope(engine, readonly=True) as s:
        user = s.exec(select(User).where(User.username == "alice")).one()
        assert remaining_codes(s, user_id=user.id) == 16
    assert codes_work(engine, "alice", alice.codes[:1]) == [True]
    assert stop_sshd(sshd) == 0
    assert "account=alice refused: wrong password" in sshd.log()
    assert "not the password" not in sshd.log()


def test_unknown_key_is_refused_before_any_password(engine, sshd, tmp_path):
    make_account(engine, tmp_path, "alice")
    stranger = make_key(tmp_path, comment="stranger")
    refused = ssh(sshd, stranger, PASSWORD, tmp_path)
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr
    assert stop_sshd(sshd) == 0
    assert "key=- account=- refused: unknown key" in sshd.log()


def test_a_key_on_another_account_is_refused(engine, sshd, tmp_path):
    """bob's key names bob: alice (who knows her own password) cannot use it for her
    account, neither as ``alice@`` nor as ``recovery@``."""
    alice = make_account(engine, tmp_path, "alice")
    bob = make_account(engine, tmp_path, "bob", password="bob's own passphrase")
    as_alice = ssh(sshd, bob.key, PASSWORD, tmp_path, login="alice")
    assert as_alice.returncode == 255 and "Permission denied (publickey)" in as_alice.stderr
    as_recovery = ssh(sshd, bob.key, PASSWORD, tmp_path)
    assert as_recovery.returncode == 255 and not CODE.search(as_recovery.stdout)
    assert codes_work(engine, "alice", alice.codes[:1]) == [True]
    assert codes_work(engine, "bob", bob.codes[:1]) == [True]
    assert stop_sshd(sshd) == 0
    log = sshd.log()
    assert "key=- account=- refused: key of another account" in log
    assert "account=bob refused: wrong password" in log


def test_a_revoked_key_is_refused(engine, sshd, tmp_path):
    alice = make_account(engine, tmp_path, "alice")
    fingerprint = alice.key.keygen_fingerprint()
    revoked = CliRunner().invoke(app, ["accounts", "revoke-ssh-key", "alice", fingerprint])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == f"SSH key {fingerprint} is revoked."
    shown = CliRunner().invoke(app, ["accounts", "show", "alice", "--json"])
    assert json.loads(shown.stdout)["ssh_keys"][0]["revoked"] is True
    refused = ssh(sshd, alice.key, PASSWORD, tmp_path)
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr
    assert stop_sshd(sshd) == 0
    assert "refused: revoked key" in sshd.log()


def test_without_2fa_nothing_is_replaced(engine, sshd, tmp_path):
    carol = make_account(engine, tmp_path, "carol", two_factor=False)
    done = ssh(sshd, carol.key, PASSWORD, tmp_path)
    assert done.returncode == 1
    assert "Two-factor authentication is not on for carol" in done.stdout
    assert events(engine, "2fa.recovery_codes_replaced_over_ssh") == []


@pytest.mark.parametrize("sshd", [SHORT_GRACE_SECONDS], indirect=True)
def test_a_client_that_never_authenticates_is_dropped(engine, sshd):
    """Handshake done, no authentication: the server hangs up after the grace period (3 s
    here) and keeps serving others."""
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=10)
    transport = paramiko.Transport(sock)
    transport.start_client(timeout=10)
    deadline = time.monotonic() + 15
    while transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not transport.is_active()
    transport.close()
    assert sshd.process.poll() is None
    assert stop_sshd(sshd) == 0
    assert "dropped: did not authenticate in time" in sshd.log()


def test_sigterm_and_ctrl_c_stop_cleanly_and_the_host_key_is_kept(engine, db_url, sshd, tmp_path):
    key_file = Path(os.environ["BACKOFFICE_DATA_DIR"]) / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = sshd.host_key
    alice = make_account(engine, tmp_path, "alice")
    assert ssh(sshd, alice.key, PASSWORD, tmp_path).returncode == 0
    assert stop_sshd(sshd) == 0
    assert "stopped cleanly" in sshd.log()
    with session_scope(engine, readonly=True) as s:
        [beat] = s.exec(select(WorkerHeartbeat).where(WorkerHeartbeat.kind == "sshd")).all()
    assert beat.status == "stopped" and beat.details == {"replaced": 1}
    again = start_sshd(db_url)
    try:
        assert again.host_key == first
    finally:
        assert stop_sshd(again, signal.SIGINT) == 0, "Ctrl-C too"
    assert "Traceback" not in again.log()


def test_port_in_use_is_one_line(engine, db_url, sshd):
    taken = subprocess.run(
        [*BACKOFFICE, "sshd", "--port", str(sshd.port), "--db", db_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert taken.returncode == 1
    assert taken.stderr.strip() == (
        f"Error: Port {sshd.port} on 127.0.0.1 is in use; start the SSH recovery server with "
        "--port."
    )
    assert "Traceback" not in taken.stderr
