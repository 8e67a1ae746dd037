"""``backoffice resets run`` applies the resets whose cooling-off has ended, and only those;
``tickets approve`` says when the reset takes effect."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from typer.testing import CliRunner

from backoffice.cli import app
from core.accounts.tokens import issue_token
from core.clock import FrozenClock, system_clock
from core.decisions import approve_ticket
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import PendingReset, User
from core.twofactor import is_enabled
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff

runner = CliRunner()


def ticket_for(s, username: str) -> int:
    user = make_user(s, username, clock=system_clock)
    enable_two_factor(s, user, clock=system_clock)
    token = issue_token(s, user=user, name="ci", clock=system_clock).plaintext
    ticket = make_ticket(
        s, clock=system_clock, requester_email=user.email, claimed_username=username
    )
    add_evidence(s, ticket, "token", token, clock=system_clock)
    return ticket.id


def test_resets_run_applies_only_due_resets(engine, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "24")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=system_clock)
        old, new = ticket_for(s, "alice"), ticket_for(s, "bob")
    yesterday = FrozenClock(system_clock() - timedelta(hours=25))
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=old, staff="sam", clock=yesterday)
    approved = runner.invoke(app, ["tickets", "approve", str(new), "--as", "sam"])
    assert approved.exit_code == 0, approved.output
    assert "takes effect at" in approved.output and "cancels it" in approved.output

    result = runner.invoke(app, ["resets", "run"])
    assert result.exit_code == 0, result.output
    assert "applied 1 2FA reset(s)" in result.output
    with session_scope(engine) as s:
        states = {
            s.get(User, r.user_id).username: r.status for r in s.exec(select(PendingReset)).all()
        }
        on = {u.username: is_enabled(s, u) for u in s.exec(select(User)).all()}
    assert states == {"alice": "applied", "bob": "pending"}
    assert on["alice"] is False and on["bob"] is True
    again = runner.invoke(app, ["resets", "run"])
    assert again.exit_code == 0 and "applied 0 2FA reset(s)" in again.output


def test_resets_run_on_a_bad_database_is_one_line(tmp_path):
    result = runner.invoke(
        app, ["resets", "run", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x"]
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
