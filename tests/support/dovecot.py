"""A throw-away Dovecot IMAP server for one test, started from the Debian package's binary.

imap-login refuses to run as root and mail access refuses low UIDs, hence the ``dovecot``
user and ``first_valid_uid = 1``; the server listens on a free port on 127.0.0.1."""

from __future__ import annotations

import imaplib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require

USER = "support"
PASSWORD = "secret"
SPARE_USERS = 500
"""Accounts created up front: Dovecot may not notice a passwd-file changed within a second."""

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Deliver ``raw`` and return its UID (from APPENDUID)."""
        return self.append_many([raw], folder)[0]

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> list[int]:
        """Deliver several messages over one connection; their UIDs in order."""
        conn = self.client()
        try:
            uids = []
            for raw in messages:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
                uids.append(int(data[0].split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]")))
            return uids
        finally:
            conn.logout()

    def with_new_user(self) -> Dovecot:
        """The same server seen through an account no test used yet."""
        name = f"user{next(_users)}"
        if int(name[4:]) > SPARE_USERS:
            raise RuntimeError("out of spare Dovecot accounts; raise SPARE_USERS")
        return Dovecot(self.host, self.port, name, PASSWORD, self.folder)


def available() -> bool:
    return shutil.which("dovecot") is not None and os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """Dovecot's unprivileged processes must reach the mail folder, so it lives in a fresh
    0755 folder under the system temp dir (pytest's ``tmp_path`` parents are 0700)."""
    d = Path(tempfile.mkdtemp(prefix="dovecot-"))
    for sub in ("run", "state", "mail"):
        (d / sub).mkdir(parents=True)
    os.chmod(d, 0o755)
    shutil.chown(d / "mail", "dovecot", "dovecot")
    users = [USER, *(f"user{i}" for i in range(1, SPARE_USERS + 1))]
    (d / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in users))
    port = _free_port()
    conf = d / "dovecot.conf"
    conf.write_text(CONFIG.format(d=d, port=port))
    # The daemon keeps inherited pipes open, so its output goes to a file, not a pipe.
    with (d / "start.log").open("wb") as out:
        subprocess.run(["dovecot", "-c", str(conf)], check=True, stdout=out, stderr=out)
    try:
        server = Dovecot("127.0.0.1", port, USER, PASSWORD, d)
        deadline = time.monotonic() + 15
        while True:  # the port opens before the auth service is ready: wait for a login
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    raise RuntimeError((d / "dovecot.log").read_text()) from None
                time.sleep(0.1)
        yield server
    finally:
        pid_file = d / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, 15)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(d, ignore_errors=True)


_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot for the session: stopping one takes seconds."""
    require(
        available(), "Dovecot IMAP is not installed (apt-get install dovecot-imapd) or not root"
    )
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """A running Dovecot and a fresh, empty account on it, for one test. Import both
    ``dovecot`` and ``dovecot_server`` into a test module to use it."""
    return dovecot_server.with_new_user()
