"""A real SMTP server for the mail tests, with the settings pointing at it."""

from __future__ import annotations

import pytest

from core.mail.outbox import queue_email
from core.mail.samples import sample_context
from core.settings import get_settings
from core.store import session_scope
from tests.support.smtp_sink import SmtpSink, free_port


@pytest.fixture
def smtp_port(monkeypatch):
    port = free_port()
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(port))
    get_settings.cache_clear()
    return port


@pytest.fixture
def sink(smtp_port):
    server = SmtpSink(smtp_port).start()
    yield server
    server.stop()


def queue_many(engine, clock, count, *, template="two_factor_enabled", **extra):
    """``count`` emails queued the way services queue them; returns their Message-IDs."""
    ids = []
    with session_scope(engine) as s:
        for n in range(count):
            row = queue_email(
                s,
                template=template,
                to=f"user{n}@example.org",
                context=sample_context(template),
                clock=clock,
                **extra,
            )
            ids.append(row.message_id)
    return ids
