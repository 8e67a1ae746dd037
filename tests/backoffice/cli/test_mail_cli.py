"""``backoffice mail preview|list|capture`` and ``backoffice outbox send``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backoffice.cli import app
from core.mail.capture import captured
from core.mail.render import template_names
from core.settings import get_settings
from core.store.engine import make_engine
from tests.core.mail.conftest import queue_many
from tests.support.smtp_sink import free_port

runner = CliRunner()


@pytest.mark.parametrize("name", template_names())
def test_preview_renders_every_template(name):
    text = runner.invoke(app, ["mail", "preview", name])
    html = runner.invoke(app, ["mail", "preview", name, "--html"])
    assert text.exit_code == 0 and text.output.startswith("Subject: ")
    assert html.exit_code == 0 and "<html" in html.output.lower()


def test_preview_of_an_unknown_template_is_one_line_error():
    result = runner.invoke(app, ["mail", "preview", "nope"])
    assert result.exit_code == 1 and "No email template named 'nope'" in result.output


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def test_outbox_send_delivers_into_the_capture_server(engine, clock, tmp_path, monkeypatch):
    port = free_port()
    maildir = tmp_path / "capture"
    server = subprocess.Popen(
        [sys.executable, "-c", "from backoffice.cli import main; main()", "mail", "capture"]
        + ["--port", str(port)]
        + ["--dir", str(maildir)],
        cwd=Path(__file__).resolve().parents[3],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        ids = queue_many(engine, clock, 3)
        monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(port))
        get_settings.cache_clear()
        result = runner.invoke(app, ["outbox", "send"])
        assert result.exit_code == 0 and "sent 3" in result.output
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        engine.dispose()
    assert sorted(m["Message-ID"] for m in captured(maildir)) == sorted(ids)


def test_outbox_send_watch_keeps_delivering_until_stopped(sqlite_url, clock, tmp_path):
    """The watch loop is the same on every database, so SQLite alone is enough here."""
    engine = make_engine(sqlite_url)
    port = free_port()
    maildir = tmp_path / "capture"
    env = os.environ | {"BACKOFFICE_SMTP_PORT": str(port), "BACKOFFICE_DATABASE_URL": sqlite_url}
    cli = [sys.executable, "-c", "from backoffice.cli import main; main()"]
    root = Path(__file__).resolve().parents[3]
    server = subprocess.Popen(
        [*cli, "mail", "capture", "--port", str(port), "--dir", str(maildir)], cwd=root, env=env
    )
    sender = None
    try:
        wait_for_port(port)
        sender = subprocess.Popen([*cli, "outbox", "send", "--watch", "0.2"], cwd=root, env=env)
        ids = queue_many(engine, clock, 2)
        deadline = time.monotonic() + 20
        while len(captured(maildir)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        ids += queue_many(engine, clock, 1)
        while len(captured(maildir)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for proc in (sender, server):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=10)
        engine.dispose()
    assert sorted(m["Message-ID"] for m in captured(maildir)) == sorted(ids)
