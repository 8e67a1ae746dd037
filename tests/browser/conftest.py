"""Real-browser fixtures: Debian's Chromium driven by Playwright (never a downloaded
browser), and ``backoffice demo`` running as a child process on free ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DemoServer:
    process: subprocess.Popen
    workdir: Path
    log: Path
    staff_url: str
    portal_url: str
    staff_username: str
    staff_password: str
    staff_secret: str
    portal_username: str
    portal_password: str
    tickets: dict[str, int]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _field(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}: (\S+)", text, re.MULTILINE)
    assert match, f"'{label}' missing from the demo's output:\n{text}"
    return match.group(1)


@pytest.fixture
def demo_server(tmp_path) -> DemoServer:
    """``backoffice demo`` in a temporary working directory; stopped with SIGINT (Ctrl-C)."""
    ports = [free_port() for _ in range(3)]
    log = tmp_path / "demo.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from backoffice.cli import main; main()", "demo"]
            + ["--port", str(ports[0]), "--portal-port", str(ports[1])]
            + ["--smtp-port", str(ports[2])],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
        text = log.read_text(errors="replace")
        tickets = {
            name: int(number)
            for number, name in re.findall(r"#(\d+) (\w+)", _field_line(text, "Tickets"))
        }
        portal_user = re.search(r"^Portal user: (\S+) / (.+)$", text, re.MULTILINE)
        yield DemoServer(
            process=process,
            workdir=tmp_path,
            log=log,
            staff_url=f"http://127.0.0.1:{ports[0]}",
            portal_url=f"http://127.0.0.1:{ports[1]}",
            staff_username=_field(text, "Staff username"),
            staff_password=_field(text, "Staff password"),
            staff_secret=_field(text, "Staff TOTP secret"),
            portal_username=portal_user.group(1),
            portal_password=portal_user.group(2).strip().strip('"'),
            tickets=tickets,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _field_line(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}: (.+)$", text, re.MULTILINE)
    assert match, f"'{label}' missing from the demo's output:\n{text}"
    return match.group(1)


@pytest.fixture
def chromium_page():
    require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser.new_page(viewport={"width": 1440, "height": 1000})
        finally:
            browser.close()
