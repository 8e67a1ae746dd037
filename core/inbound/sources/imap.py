"""An IMAP folder as a source (stdlib ``imaplib``).

Progress is a checkpoint (last UID under the folder's UIDVALIDITY) saved in the same
transaction as the messages, so a crash re-reads at most the uncommitted batch and the
unique constraint turns any re-read into a duplicate. After the commit each message is
flagged ``\\Seen`` (or moved to another folder); nothing is ever deleted or expunged."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.clock import Clock, system_clock
from core.errors import DomainError, InvalidInput
from core.inbound.pipeline import IngestOutcome, SourceMessage, ingest_messages
from core.inbound.report import IngestReport
from core.store.engine import session_scope
from core.store.tables.inbound import ImapCheckpoint
from core.workers.faults import Backoff, Dependency, is_transient_database_error

log = logging.getLogger("core.inbound")
FETCH_CHUNK = 50
UID_RE = re.compile(rb"UID (\d+)")


class ImapError(DomainError):
    """The IMAP server refused or failed a command."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: str = "ssl"
    """``ssl`` (IMAPS), ``starttls`` or ``plain``."""
    move_to: str | None = None
    """Move handled messages to this folder instead of flagging them ``\\Seen``."""
    timeout: float = 30.0

    @property
    def mailbox_key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def _check(result: tuple[str, list], what: str) -> list:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise ImapError(f"IMAP {what} failed: {detail}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    def __init__(self, config: ImapConfig, engine: Engine, *, clock: Clock = system_clock):
        if config.security not in ("ssl", "starttls", "plain"):
            raise InvalidInput("IMAP security is one of ssl, starttls, plain.")
        self.config = config
        self.engine = engine
        self.clock = clock
        self.server = Dependency("IMAP server", log)
        self.database = Dependency("database", log)

    @property
    def unavailable(self) -> str | None:
        """The dependency that failed the last poll, if any."""
        return next((d.name for d in (self.server, self.database) if d.down), None)

    def connect(self) -> imaplib.IMAP4:
        c = self.config
        try:
            if c.security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    c.host, c.port, ssl_context=ssl.create_default_context(), timeout=c.timeout
                )
            else:
                conn = imaplib.IMAP4(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    conn.starttls(ssl.create_default_context())
            conn.login(c.user, c.password)
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"IMAP login to {c.host}:{c.port} failed: {exc}") from None
        except OSError as exc:
            raise ImapError(f"Cannot reach IMAP server {c.host}:{c.port}: {exc}") from None
        return conn

    def run_once(
        self,
        *,
        batch_size: int = 50,
        report: IngestReport | None = None,
        progress: Callable[[IngestOutcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> IngestReport:
        """Ingest every message past the checkpoint, then log out; with ``stop`` set
        meanwhile it ends after the batch being written."""
        report = report or IngestReport()
        conn = self.connect()
        try:
            _check(conn.select(_quote(self.config.folder)), "SELECT")
            uidvalidity = self._uidvalidity(conn)
            last_uid = self._last_uid(uidvalidity)
            self._reconcile(conn, last_uid)
            uids = self._new_uids(conn, last_uid)

            def save_checkpoint(session: Session, batch: list[SourceMessage]) -> None:
                self._save_checkpoint(session, uidvalidity, max(int(m.key) for m in batch))

            ingest_messages(
                self.engine,
                self._messages(conn, uids, stop),
                clock=self.clock,
                batch_size=batch_size,
                report=report,
                in_transaction=save_checkpoint,
                progress=progress,
            )
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
        return report

    def watch(
        self,
        interval: float,
        *,
        batch_size: int = 50,
        report: IngestReport | None = None,
        progress: Callable[[IngestOutcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> IngestReport:
        """Poll every ``interval`` seconds until ``stop`` is set. A lost connection (IMAP or
        database, a lock timeout) is logged once per kind and retried with back-off (never
        slower than ``interval``), the mail staying on the server; one line says when the
        dependency is back."""
        report = report or IngestReport()
        stop = stop or threading.Event()
        self.server.backoff = Backoff(base=1.0, cap=interval)
        self.database.backoff = Backoff(base=1.0, cap=interval)
        while not stop.is_set():
            try:
                self.run_once(batch_size=batch_size, report=report, progress=progress, stop=stop)
            except (ImapError, imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError) as exc:
                self.database.ok()
                stop.wait(self.server.failed(exc))
                continue
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                self.server.ok()
                stop.wait(self.database.failed(exc))
                continue
            self.server.ok()
            self.database.ok()
            stop.wait(interval)
        return report

    def _uidvalidity(self, conn: imaplib.IMAP4) -> int:
        data = _check(conn.status(_quote(self.config.folder), "(UIDVALIDITY)"), "STATUS")
        match = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
        if not match:
            raise ImapError("The IMAP server did not report UIDVALIDITY.")
        return int(match.group(1))

    def _last_uid(self, uidvalidity: int) -> int:
        with session_scope(self.engine, readonly=True) as session:
            row = session.exec(
                select(ImapCheckpoint).where(ImapCheckpoint.mailbox == self.config.mailbox_key)
            ).first()
        if row is None or row.uidvalidity != uidvalidity:
            if row is not None:
                log.warning("UIDVALIDITY of %s changed: reading it again", row.mailbox)
            return 0
        return row.last_uid

    def _save_checkpoint(self, session: Session, uidvalidity: int, last_uid: int) -> None:
        row = session.exec(
            select(ImapCheckpoint).where(ImapCheckpoint.mailbox == self.config.mailbox_key)
        ).first()
        if row is None:
            row = ImapCheckpoint(
                mailbox=self.config.mailbox_key, uidvalidity=uidvalidity, updated_at=self.clock()
            )
        if row.uidvalidity != uidvalidity:
            row.uidvalidity, row.last_uid = uidvalidity, 0
        row.last_uid = max(row.last_uid, last_uid)
        row.updated_at = self.clock()
        session.add(row)

    def _new_uids(self, conn: imaplib.IMAP4, last_uid: int) -> list[int]:
        data = _check(conn.uid("SEARCH", None, f"UID {last_uid + 1}:*"), "SEARCH")
        return sorted(u for u in map(int, (data[0] or b"").split()) if u > last_uid)

    def _reconcile(self, conn: imaplib.IMAP4, last_uid: int) -> None:
        """Messages committed by a run that died before flagging them get flagged now."""
        if last_uid == 0 or self.config.move_to:
            return
        data = _check(conn.uid("SEARCH", None, f"UID 1:{last_uid} UNSEEN"), "SEARCH")
        for uid in (data[0] or b"").split():
            if int(uid) <= last_uid:
                self._mark_done(conn, int(uid))

    def _messages(
        self, conn: imaplib.IMAP4, uids: list[int], stop: threading.Event | None = None
    ) -> Iterator[SourceMessage]:
        source = f"imap:{self.config.mailbox_key}"
        for start in range(0, len(uids), FETCH_CHUNK):
            if stop is not None and stop.is_set():
                return
            chunk = uids[start : start + FETCH_CHUNK]
            data = _check(
                conn.uid("FETCH", ",".join(map(str, chunk)), "(UID BODY.PEEK[])"), "FETCH"
            )
            fetched: dict[int, bytes] = {}
            for item in data:
                if isinstance(item, tuple) and (match := UID_RE.search(item[0])):
                    fetched[int(match.group(1))] = item[1]
            for uid in chunk:
                if uid in fetched:
                    yield SourceMessage(
                        fetched[uid],
                        source,
                        done=lambda u=uid: self._mark_done(conn, u),
                        key=uid,
                    )

    @staticmethod
    def _capabilities(conn: imaplib.IMAP4) -> set[str]:
        """After login (imaplib keeps the pre-login list, which may lack MOVE)."""
        caps = getattr(conn, "_backoffice_caps", None)
        if caps is None:
            data = _check(conn.capability(), "CAPABILITY")
            caps = set((data[0] or b"").decode().upper().split())
            conn._backoffice_caps = caps  # type: ignore[attr-defined]
        return caps

    def _mark_done(self, conn: imaplib.IMAP4, uid: int) -> None:
        if self.config.move_to:
            target = _quote(self.config.move_to)
            if "MOVE" in self._capabilities(conn):
                _check(conn.uid("MOVE", str(uid), target), "MOVE")
                return
            _check(conn.uid("COPY", str(uid), target), "COPY")
        _check(conn.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "STORE")
