"""``backoffice accounts reset-password USERNAME``: the link goes to the address on file and
is never printed."""

from __future__ import annotations

from sqlmodel import select
from typer.testing import CliRunner

from backoffice.cli import app
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail
from tests.core.twofactor import conftest as twofactor
from tests.support.outbox_mail import delivered_text

user = twofactor.user


def test_reset_password_queues_the_link_and_prints_no_token(engine, user):
    runner = CliRunner()
    done = runner.invoke(app, ["accounts", "reset-password", "alice"])
    assert done.exit_code == 0, done.output
    assert "queued to alice@example.com" in done.stdout and "token=" not in done.output
    with session_scope(engine, readonly=True) as s:
        [mail] = s.exec(select(OutboxEmail)).all()
        actors = s.exec(select(AuditEvent.actor).where(AuditEvent.user_id == user.id)).all()
    assert mail.to_addr == "alice@example.com" and "forgot-password?token=" in delivered_text(mail)
    assert "forgot-password?token=" not in mail.body_text  # stored sealed
    assert "cli" in actors

    again = runner.invoke(app, ["accounts", "reset-password", "alice"])
    assert again.exit_code == 1 and "try again in a minute" in again.stderr


def test_unknown_account_is_one_line(engine, user):
    done = CliRunner().invoke(app, ["accounts", "reset-password", "nobody"])
    assert done.exit_code == 1
    assert done.stderr.strip() == "Error: No account matches 'nobody'."
