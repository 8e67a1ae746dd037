"""``backoffice portal`` as a real process for the browser tests: started on a free port
against a SQLite file, waited for until it answers, stopped with its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser.conftest import free_port
from tests.conftest import PROJECT_ROOT


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the portal exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the portal did not answer {url} within {seconds} s:\n{log.read_text()}")


@contextmanager
def running_portal(sqlite_url: str, log: Path, settings: dict[str, str]) -> Iterator[str]:
    """The portal's base URL while it runs with ``settings`` added to the environment
    (uvicorn's own FORWARDED_ALLOW_IPS left at its default); its output goes to ``log``."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **settings}
    env.pop("FORWARDED_ALLOW_IPS", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from backoffice.cli import main; main()", "portal"]
            + ["--port", str(port), "--db", sqlite_url],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base_url}/_stcore/health", process, log)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
