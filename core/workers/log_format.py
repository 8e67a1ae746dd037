"""How long-running commands log: plain text for a terminal or one JSON object per line for a
log pipeline, and never a secret either way. Every record passes ``SecretFilter`` on the
handler: access tokens are masked as everywhere else and email addresses keep only their
first letter and domain, so an envelope address or a token quoted in an error is not
written out. ``configure_logging`` is the one call for ``worker``, ``smtpd``, ``outbox send
--watch``, ``ingest imap --watch`` and the web apps."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from core.inbound.redaction import mask_in_place

FORMATS = ("text", "json")
ADDRESS_RE = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
NOISY_LOGGERS = {"mail.log": logging.WARNING, "asyncio": logging.WARNING}
"""aiosmtpd logs every command line and envelope address at INFO: peers and addresses are
personal data and add nothing an operator needs; its warnings and errors still show."""
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def mask_address(address: str | None) -> str:
    """``alice@example.com`` → ``a***@example.com``; ``<>`` for the null sender."""
    if not address:
        return "<>"
    return ADDRESS_RE.sub(r"\1***@\2", address)


def scrub(text: str) -> str:
    """``text`` with access tokens and email addresses masked."""
    return mask_address(mask_in_place(text)) if text else text


class SecretFilter(logging.Filter):
    """Renders the message once and masks what it must; the record then carries no args."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, pid, plus any
    ``extra={...}`` fields given to the log call."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process or os.getpid(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    fmt: str = "text", *, level: str | int = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (default stderr) as ``text`` or ``json``, through
    ``SecretFilter``; replaces the root logger's handlers. Returns the handler."""
    if fmt not in FORMATS:
        raise ValueError(f"log format is one of {', '.join(FORMATS)}, not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SecretFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name, floor in NOISY_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)
    return handler
