"""The SSH face of recovery (paramiko): public key, then the account password by
keyboard-interactive, then the new recovery codes printed in the session.

Only the rules in ``ssh_service`` decide anything; this module speaks SSH, keeps the host
key (generated once, 0600, under the data folder), gives a client ``ssh_login_grace_seconds``
to authenticate, and logs one line per connection with no secret in it."""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from core.accounts.ssh_keys import fingerprint_sha256
from core.clock import Clock, system_clock
from core.errors import DomainError, InvalidCredentials, Throttled
from core.recovery.ssh_service import (
    KeyOwner,
    KeyRefused,
    check_password,
    identify_key,
    replace_recovery_codes,
    session_text,
)
from core.settings import get_settings
from core.store import session_scope
from core.twofactor.client_address import peer_client

log = logging.getLogger("core.recovery.sshd")
HOST_KEY_NAME = "ssh_host_ed25519_key"
HANDSHAKE_SECONDS = 15


class SshdUnavailable(DomainError):
    """The server cannot start: the port is taken, or the host key is unusable."""


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """The server's Ed25519 host key, made on first start (mode 0600) and kept, so clients
    see the same fingerprint across restarts. A key readable by others is refused, as
    OpenSSH's sshd refuses it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SshdUnavailable(f"The host key {path} is readable by others; chmod 600 it.")
    try:
        return paramiko.Ed25519Key.from_private_key_file(str(path))
    except (paramiko.SSHException, ValueError) as exc:
        raise SshdUnavailable(f"The host key {path} is not an unencrypted Ed25519 key.") from exc


_TALLIES = {
    "recovery codes replaced": "replaced",
    "2fa off": "nothing_to_replace",
    "refused": "refused",
    "dropped": "dropped",
}


def _tally(outcome: str) -> str:
    """The heartbeat counter an outcome adds to."""
    return next((v for k, v in _TALLIES.items() if outcome.startswith(k)), "closed_or_failed")


@dataclass
class _Connection:
    """One client's progress; ``outcome`` ends up in its log line."""

    peer: str
    owner: KeyOwner | None = None
    password_ok: bool = False
    outcome: str = "closed before authenticating"
    shell: threading.Event = field(default_factory=threading.Event)


class RecoveryInterface(paramiko.ServerInterface):
    """Authentication in two steps: publickey (partial success), then keyboard-interactive
    with the key's account password. Nothing else is offered."""

    def __init__(self, engine: Engine, conn: _Connection, clock: Clock) -> None:
        self.engine = engine
        self.conn = conn
        self.clock = clock

    def get_allowed_auths(self, username: str) -> str:
        return "keyboard-interactive" if self.conn.owner else "publickey"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if self.conn.owner is not None:
            return paramiko.AUTH_FAILED
        try:
            with session_scope(self.engine, readonly=True) as s:
                owner = identify_key(s, login=username, key_blob=key.asbytes())
        except KeyRefused as exc:
            self.conn.outcome = f"refused: {exc.reason}"
            return paramiko.AUTH_FAILED
        # paramiko asks this before checking the signature (and for signature-less
        # "would you take this key?" queries): the key counts only once its signature
        # verifies, so the check is wrapped on this key object.
        verify = key.verify_ssh_sig

        def verified(data: bytes, msg: paramiko.Message) -> bool:
            ok = verify(data, msg)
            if ok:
                self.conn.owner = owner
            return ok

        key.verify_ssh_sig = verified  # type: ignore[method-assign]
        return paramiko.AUTH_PARTIALLY_SUCCESSFUL

    def check_auth_interactive(self, username: str, submethods: str):
        owner = self.conn.owner
        if owner is None:
            return paramiko.AUTH_FAILED
        return paramiko.InteractiveQuery(
            "Hugging Face account recovery",
            f"The SSH key {owner.fingerprint} belongs to {owner.username}.",
            (f"Password for {owner.username}: ", False),
        )

    def check_auth_interactive_response(self, responses: list[str]) -> int:
        owner = self.conn.owner
        if owner is None or len(responses) != 1:
            return paramiko.AUTH_FAILED
        try:
            with session_scope(self.engine) as s:
                check_password(
                    s,
                    owner=owner,
                    password=responses[0],
                    client=peer_client("ssh", self.conn.peer.rpartition(":")[0]),
                    clock=self.clock,
                )
        except Throttled:
            self.conn.outcome = "refused: throttled"
            return paramiko.AUTH_FAILED
        except InvalidCredentials:
            self.conn.outcome = "refused: wrong password"
            return paramiko.AUTH_FAILED
        self.conn.password_ok = True
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self.conn.password_ok:
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.conn.shell.set()
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        """``ssh recovery@host 2fa_recovery_codes`` (GitLab's spelling) or any command: the
        session does one thing."""
        self.conn.shell.set()
        return True


class RecoveryServer:
    """Listens on ``host:port``; one thread per connection. ``stop()`` closes the listener
    and every open connection; connections that are mid-way write nothing half-done, since
    the new codes commit only after they were written to the channel."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str = "127.0.0.1",
        port: int = 2222,
        host_key_path: Path | None = None,
        clock: Clock = system_clock,
    ) -> None:
        settings = get_settings()
        # paramiko logs several lines per connection, and a broken client's protocol error
        # with a traceback; the server writes its own single line per connection instead.
        logging.getLogger("paramiko").setLevel(logging.CRITICAL)
        self.engine = engine
        self.clock = clock
        self.grace = settings.ssh_login_grace_seconds
        self.host_key = load_or_create_host_key(host_key_path or settings.data_dir / HOST_KEY_NAME)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._transports: set[paramiko.Transport] = set()
        self._threads: list[threading.Thread] = []
        self.totals: Counter[str] = Counter()
        """Connections by how they ended (``replaced``, ``refused``...), for heartbeats."""
        try:
            self._listener = socket.create_server((host, port), reuse_port=False)
        except OSError as exc:
            raise SshdUnavailable(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
        self._listener.settimeout(0.5)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._acceptor = threading.Thread(target=self._accept_loop, name="sshd-accept", daemon=True)

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint_sha256(self.host_key.asbytes())

    def start(self) -> RecoveryServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        if self._acceptor.is_alive():
            self._acceptor.join()
        with self._lock:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break  # the listener was closed by stop()
            thread = threading.Thread(
                target=self._serve, args=(sock, f"{peer[0]}:{peer[1]}"), daemon=True
            )
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, sock: socket.socket, peer: str) -> None:
        conn = _Connection(peer=peer)
        transport = paramiko.Transport(sock)
        transport.handshake_timeout = HANDSHAKE_SECONDS
        transport.banner_timeout = HANDSHAKE_SECONDS
        transport.add_server_key(self.host_key)
        with self._lock:
            self._transports.add(transport)
        try:
            self._run(transport, conn)
        except Exception as exc:  # a broken client must not take the server down
            conn.outcome = f"error: {type(exc).__name__}"
        finally:
            transport.close()
            with self._lock:
                self._transports.discard(transport)
                self.totals[_tally(conn.outcome)] += 1
            owner = conn.owner
            log.info(
                "ssh %s key=%s account=%s %s",
                peer,
                owner.fingerprint if owner else "-",
                owner.username if owner else "-",
                conn.outcome,
            )

    def _run(self, transport: paramiko.Transport, conn: _Connection) -> None:
        try:
            transport.start_server(server=RecoveryInterface(self.engine, conn, self.clock))
        except (paramiko.SSHException, EOFError, OSError):
            conn.outcome = "handshake failed"
            return
        channel = transport.accept(timeout=self.grace)
        if channel is None:
            if transport.is_active() and not conn.password_ok:
                conn.outcome = "dropped: did not authenticate in time"
            return
        with channel:
            if not conn.shell.wait(timeout=self.grace) or conn.owner is None:
                conn.outcome = "dropped: no shell or command requested"
                return
            self._replace_and_print(channel, conn.owner, conn)

    def _replace_and_print(
        self, channel: paramiko.Channel, owner: KeyOwner, conn: _Connection
    ) -> None:
        """Print the new codes, and commit them only once they are written: a client gone
        before that keeps its old codes."""
        try:
            with session_scope(self.engine) as s:
                codes = replace_recovery_codes(s, owner=owner, clock=self.clock)
                channel.sendall(session_text(owner, codes).encode())
        except OSError:
            conn.outcome = "channel closed before the codes were written; nothing changed"
            return
        conn.outcome = "recovery codes replaced" if codes else "2fa off: nothing replaced"
        channel.send_exit_status(0 if codes else 1)
        channel.shutdown_write()
        channel.close()
        # Let the client hang up first: closing the socket under unread input would
        # reset the connection and could lose the codes still in flight.
        channel.get_transport().join(timeout=5)


class SshRecoveryService:
    """``RecoveryServer`` as a supervised long-running service (``core.workers.supervisor``):
    signals, heartbeats (kind ``sshd``) and the clean stop come from the supervisor."""

    kind = "sshd"

    def __init__(
        self, engine: Engine, *, host: str, port: int, clock: Clock = system_clock
    ) -> None:
        self.engine, self.host, self.port, self.clock = engine, host, port, clock
        self.server: RecoveryServer | None = None

    def describe(self) -> str:
        if self.server is None:
            return f"SSH recovery on {self.host}:{self.port} (not listening)"
        host, port = self.server.address
        return (
            f"SSH recovery on {host}:{port} (host key {self.server.host_key_fingerprint}); "
            f"users run: ssh -p {port} recovery@HOST"
        )

    def start(self) -> None:
        self.server = RecoveryServer(
            self.engine, host=self.host, port=self.port, clock=self.clock
        ).start()

    def run(self, stop: threading.Event) -> None:
        if self.server is None:
            self.start()
        stop.wait()
        if self.server is not None:
            self.server.stop()  # the reference stays: the last heartbeat reports its totals

    def degraded(self) -> str | None:
        return None

    def details(self) -> Mapping[str, Any]:
        return dict(self.server.totals) if self.server is not None else {}
