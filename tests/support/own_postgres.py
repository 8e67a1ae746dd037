"""A PostgreSQL server of the test's own, to stop and start in the middle of a test (the
shared server of ``BACKOFFICE_TEST_DATABASE_URL`` must never be stopped). ``initdb`` refuses
root, so the cluster belongs to the ``postgres`` user; binaries come from the Debian package."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import require
from tests.support.smtp_sink import free_port


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class OwnPostgres:
    """``start()``, ``stop()`` (fast: connections are cut as in a restart) and ``url``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="own-pg-"))
        self.dir.chmod(0o755)
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            cwd="/",
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start",
            "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def accepting(self) -> bool:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            engine.dispose()

    def remove(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D",
             str(self.dir / "data"), "-m", "immediate", "stop"],
            cwd="/", capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh, running, throw-away PostgreSQL (skips, or fails under CI, without one)."""
    bin_dir = _bin_dir()
    require(bin_dir is not None, "PostgreSQL binaries are missing (/usr/lib/postgresql/*/bin)")
    require(shutil.which("runuser") is not None and os.geteuid() == 0, "needs root and runuser")
    server = OwnPostgres(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def wait_until(condition, timeout: float = 30, what: str = "the condition") -> None:
    """Poll ``condition`` every 50 ms; fail the test with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
