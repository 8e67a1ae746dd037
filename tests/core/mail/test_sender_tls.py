"""The sender's STARTTLS, implicit TLS and credentials against a real aiosmtpd server."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlmodel import select

from core.mail.sender import OutboxSender
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.core.mail.conftest import queue_many
from tests.support.smtp_sink import FlakyHandler, free_port
from tests.support.tls import self_signed, server_context


class Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (login, password) == ("outbox", "s3cret")
        self.seen.append((login, ok))
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(tmp_path, monkeypatch, request):
    """A server that demands STARTTLS (or speaks TLS at once) and then a login."""
    implicit = request.param == "implicit"
    cert, key = self_signed(tmp_path)
    port = free_port()
    handler, logins = FlakyHandler(), Logins()
    options = {"authenticator": logins, "auth_exclude_mechanism": ["LOGIN"]}
    if implicit:  # aiosmtpd only counts STARTTLS as TLS for AUTH; the socket is TLS here
        options |= {"ssl_context": server_context(cert, key), "auth_require_tls": False}
    else:
        options |= {"tls_context": server_context(cert, key), "require_starttls": True}
        options["auth_require_tls"] = True
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    env = {
        "BACKOFFICE_SMTP_PORT": str(port),
        "BACKOFFICE_SMTP_CA_FILE": str(cert),
        "BACKOFFICE_SMTP_USERNAME": "outbox",
        "BACKOFFICE_SMTP_PASSWORD": "s3cret",
        "BACKOFFICE_SMTP_SSL" if implicit else "BACKOFFICE_SMTP_STARTTLS": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield handler, logins
    controller.stop()


@pytest.mark.parametrize("tls_server", ["starttls", "implicit"], indirect=True)
def test_delivers_over_tls_with_credentials(engine, clock, tls_server):
    handler, logins = tls_server
    ids = queue_many(engine, clock, 3)
    assert OutboxSender(engine, clock=clock).deliver_due().sent == 3
    assert sorted(m["Message-ID"] for m in handler.messages) == sorted(ids)
    assert logins.seen and all(seen == ("outbox", True) for seen in logins.seen)


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
def test_wrong_credentials_keep_the_mail_queued(engine, clock, tls_server, monkeypatch):
    handler, logins = tls_server
    monkeypatch.setenv("BACKOFFICE_SMTP_PASSWORD", "wrong")
    monkeypatch.setenv("BACKOFFICE_SMTP_TIMEOUT_SECONDS", "5")
    get_settings.cache_clear()
    queue_many(engine, clock, 2)
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert (result.sent, result.failed, result.retrying) == (0, 0, 2)
    with session_scope(engine) as s:
        rows = s.exec(select(OutboxEmail)).all()
    assert all(r.status == "queued" and "535" in r.last_error for r in rows), rows
    assert handler.messages == [] and ("outbox", False) in logins.seen
