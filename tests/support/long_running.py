"""Long-running ``backoffice`` commands as real processes for tests: start one with the
test's settings, signal it, read its log, and fill or read the outbox meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from sqlalchemy import func, insert, select

from core.mail.outbox import new_message_id, outbox_values
from core.mail.samples import sample_context
from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.conftest import PROJECT_ROOT

CLI = [sys.executable, "-c", "from backoffice.cli import main; main()"]


class Command:
    """One ``backoffice ...`` process; its stdout and stderr go to ``log``."""

    def __init__(
        self, args: list[str], *, env: dict[str, str], log: Path, stdin: IO | None = None
    ) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [*CLI, *args],
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM, then the exit status (the test fails if it takes past ``timeout``)."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        if self.running():
            self.kill()
        self._out.close()


def queue_emails(engine, count: int, *, template: str = "two_factor_enabled") -> set[str]:
    """``count`` rendered emails in the outbox in one statement; returns their Message-IDs."""
    base = outbox_values(template=template, to="user@example.org", context=sample_context(template))
    rows = [
        {**base, "message_id": new_message_id(), "to_addr": f"user{n}@example.org"}
        for n in range(count)
    ]
    with session_scope(engine) as s:
        s.execute(insert(OutboxEmail), rows)
    return {r["message_id"] for r in rows}


def outbox_counts(engine) -> dict[str, int]:
    with session_scope(engine, readonly=True) as s:
        return dict(
            s.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()
        )


def sent_ids(engine) -> set[str]:
    with session_scope(engine, readonly=True) as s:
        return set(
            s.execute(select(OutboxEmail.message_id).where(OutboxEmail.status == "sent")).scalars()
        )
