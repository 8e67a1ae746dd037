"""Run the ``backoffice`` command as a real process, as cron or an operator would, with
the test's settings in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_backoffice(
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    python_flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """``backoffice ARGS`` in a fresh interpreter; stdout and stderr decoded as text."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, *python_flags, "-c", "from backoffice.cli import main; main()", *args],
        input=input,
        env=full_env,
        cwd=os.getcwd(),
        capture_output=True,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )
