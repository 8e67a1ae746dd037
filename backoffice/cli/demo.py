"""``backoffice demo``: one command that builds a fresh demo and serves everything.

It rebuilds ``data/demo.db`` from the shipped demo data (``backoffice.demo_data``), prints
the staff member's password and TOTP secret, then runs the local mail capture and the outbox
sender (threads) and the staff app and the account portal (child processes) until Ctrl-C,
which stops them all."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import pyotp
import typer

from backoffice.cli.common import console, fail
from backoffice.cli.streamlit_server import start_streamlit
from backoffice.demo_data.build import DemoWorld, build_demo
from backoffice.portal import APP_PATH as PORTAL_APP
from backoffice.staff import APP_PATH as STAFF_APP
from core.mail.capture import start_capture
from core.mail.sender import OutboxSender
from core.settings import get_settings
from core.store import dispose_engines, get_engine

SENDER_INTERVAL_SECONDS = 1.0
DEMO_AUTHSERV_ID = "mx.support.demo"
"""The demo's own receiver: the demo inbox carries its Authentication-Results."""


def _quoted(secret: str) -> str:
    """A password as typed: quoted when it holds a space, so where it ends is plain."""
    return f'"{secret}"' if " " in secret else secret


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_healthy(url: str, child, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise fail(f"{url} exited with status {child.returncode} while starting.")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise fail(f"{url} did not become healthy within {timeout:.0f} s.")


def _fresh_demo_files(data_dir: Path) -> tuple[Path, Path]:
    """Delete the previous demo's database and captured mail (nothing else in data/)."""
    db_file = data_dir / "demo.db"
    capture_dir = data_dir / "demo-mail"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(capture_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    return db_file, capture_dir


def _sender_loop(stop: threading.Event) -> None:
    sender = OutboxSender()
    while not stop.is_set():
        try:
            sender.deliver_due()
        except Exception as exc:  # a delivery hiccup must not end the demo
            console.print(f"[yellow]outbox sender: {exc}[/]", highlight=False)
        stop.wait(SENDER_INTERVAL_SECONDS)


def _print_welcome(world: DemoWorld, *, host: str, port: int, portal_port: int) -> None:
    staff = world.staff
    code = pyotp.TOTP(staff.secret).now()
    console.rule("Hub 2FA back office — demo")
    console.print(
        f"Staff back office (support staff decide tickets here): http://{host}:{port}/\n"
        f"Account portal (Hub users manage their 2FA here):      http://{host}:{portal_port}/\n"
        f"Staff username: {staff.username}\n"
        f"Staff password: {_quoted(world.staff_password)}\n"
        f"Staff TOTP secret: {staff.secret}\n"
        f"Current code: {code} (changes every 30 s; add the secret to an authenticator app, "
        f"or run: oathtool --totp -b {staff.secret})\n"
        f"Portal user: {world.portal_user['username']} / "
        f"{_quoted(world.portal_user['password'])}\n"
        f"Tickets: " + ", ".join(f"#{n} {name}" for name, n in world.tickets.items()),
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "Inbox: the demo's recovery emails went through the real pipeline, as if received "
        "over the last day (the accounts are older):",
        highlight=False,
    )
    for name, outcome in world.ingested.items():
        console.print(f"  {name}: {outcome}", highlight=False, soft_wrap=True)
    if world.decisions:
        console.print(
            f"Under way: #{world.decisions.pending_reset_ticket} approved, its 2FA reset waits "
            "a day (the owner's 'not you?' email with the cancel link is on the Mail page); "
            f"#{world.decisions.awaiting_second_approver} has a first approval by kim and "
            "waits for a second approver (you).",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        "DEMO ONLY: these credentials are public. Ctrl+C stops everything.", style="yellow"
    )


def demo(
    port: Annotated[int, typer.Option("--port", help="Port of the staff back office.")] = 8501,
    portal_port: Annotated[
        int, typer.Option("--portal-port", help="Port of the account portal.")
    ] = 8502,
    smtp_port: Annotated[
        int, typer.Option("--smtp-port", help="Port of the local mail capture.")
    ] = 1025,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Build a fresh demo (accounts, staff, an inbox of recovery emails) and serve it all."""
    for what, number in (("staff app", port), ("portal", portal_port), ("mail capture", smtp_port)):
        if not _port_free(host, number):
            raise fail(f"Port {number} for the {what} is in use; pick another with --help.")
    data_dir = get_settings().data_dir.resolve()
    db_file, capture_dir = _fresh_demo_files(data_dir)
    env = {
        "BACKOFFICE_DATABASE_URL": f"sqlite:///{db_file}",
        "BACKOFFICE_SMTP_HOST": host,
        "BACKOFFICE_SMTP_PORT": str(smtp_port),
        "BACKOFFICE_SMTP_STARTTLS": "false",
        "BACKOFFICE_SMTP_SSL": "false",
        "BACKOFFICE_CAPTURE_DIR": str(capture_dir),
        "BACKOFFICE_DATA_DIR": str(data_dir),
        "BACKOFFICE_RESET_COOLING_OFF_HOURS": "0",  # the demo's approvals reset at once
        "BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE": "true",  # the default, shown on grace's ticket
        "BACKOFFICE_TRUSTED_AUTHSERV_IDS": DEMO_AUTHSERV_ID,
    }
    os.environ.update(env)
    get_settings.cache_clear()
    dispose_engines()
    world = build_demo(get_engine(), staff_password=secrets.token_urlsafe(12))

    def stop_on_term(_signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    stop = threading.Event()
    with ExitStack() as stack:
        controller = start_capture(capture_dir, host=host, port=smtp_port)
        stack.callback(controller.stop)
        sender = threading.Thread(target=_sender_loop, args=(stop,), name="outbox-sender")
        sender.start()
        stack.callback(sender.join, 10)
        stack.callback(stop.set)
        db_url = env["BACKOFFICE_DATABASE_URL"]
        children = [
            start_streamlit(STAFF_APP, port=port, host=host, db_url=db_url),
            start_streamlit(PORTAL_APP, port=portal_port, host=host, db_url=db_url),
        ]
        for child in children:
            stack.callback(_stop_child, child)
        try:
            _wait_healthy(f"http://{host}:{port}", children[0])
            _wait_healthy(f"http://{host}:{portal_port}", children[1])
            _print_welcome(world, host=host, port=port, portal_port=portal_port)
            console.print("Ready.", highlight=False)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            console.print("[red]A server stopped; shutting the demo down.[/]")
        except KeyboardInterrupt:
            console.print("Stopping the demo…", highlight=False)


def _stop_child(child) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
