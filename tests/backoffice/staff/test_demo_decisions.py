"""The demo starts with issue #13's two states: a reset waiting out its cooling-off, whose
"not you?" email with the cancel link is in the captured mail, and a weak-evidence ticket
waiting for a second approver, which the demo's admin confirms."""

from __future__ import annotations

import re
import shutil
from email import message_from_bytes, policy

from sqlmodel import select

from backoffice.demo_data.build import build_demo
from core.decisions import approve_ticket
from core.decisions.approval_state import approval_state
from core.mail.capture import captured, start_capture
from core.mail.sender import deliver_due
from core.settings import get_settings
from core.store import session_scope
from core.store.engine import make_engine
from core.store.tables import OutboxEmail, Ticket
from tests.conftest import require
from tests.support.smtp_sink import free_port


def test_demo_has_a_pending_reset_in_the_capture_and_a_ticket_awaiting_a_second_approver(
    sqlite_url, monkeypatch, tmp_path
):
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen is not installed")
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "true")  # the default, as demoed
    port = free_port()
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(port))
    monkeypatch.setenv("BACKOFFICE_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    world = build_demo(engine, staff_password="demo staff password")
    pending, waiting = (
        world.decisions.pending_reset_ticket,
        world.decisions.awaiting_second_approver,
    )
    with session_scope(engine, readonly=True) as s:
        reset = approval_state(s, pending).reset
        assert reset.status == "pending" and reset.username == "frank"
        state = approval_state(s, waiting)
        assert (state.asked_by, state.confirmed_by) == ("kim", None)
        ticket = s.get(Ticket, waiting)
        assert ticket.status in ("new", "open") and ticket.flagged
        notice = s.exec(
            select(OutboxEmail).where(OutboxEmail.template == "two_factor_reset_pending")
        ).one()
    controller = start_capture(tmp_path / "capture", port=port)
    try:
        deliver_due(engine)
    finally:
        controller.stop()
    mail = [m for m in captured(tmp_path / "capture") if m["Subject"] == notice.subject]
    assert [m["To"] for m in mail] == ["frank@example.org"]
    parsed = message_from_bytes(mail[0].as_bytes(), policy=policy.default)
    body = parsed.get_body(("plain",)).get_content()
    assert re.search(r"http://localhost:8502/cancel-reset\?token=\S+", body)

    with session_scope(engine) as s:
        done = approve_ticket(s, ticket_id=waiting, staff=world.staff.username)
    assert done.status == "approved" and done.first_approval_by == "staff:kim"
    engine.dispose()
