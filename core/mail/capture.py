"""A local SMTP server that keeps every message in a Maildir: the embedded default's "mail
server", so the demo and tests can read what the back office sent."""

from __future__ import annotations

import mailbox
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def start_capture(directory: Path, *, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Start the server in a background thread and return its controller (``.stop()``)."""
    for sub in ("tmp", "new", "cur"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(directory), hostname=host, port=port)
    controller.start()
    return controller


def captured(directory: Path) -> list[mailbox.MaildirMessage]:
    """The messages captured so far, oldest first."""
    if not directory.exists():
        return []
    box = mailbox.Maildir(directory, create=False)
    return sorted(box, key=lambda m: m.get_date())
