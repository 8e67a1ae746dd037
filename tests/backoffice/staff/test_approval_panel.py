"""The Ticket page shows two-person approval and the cooling-off (issue #13 items 3, 4): the
first approver, the wait for a different staff member, who confirmed, and the pending 2FA
reset with the time it takes effect."""

from __future__ import annotations

from core.settings import get_settings
from core.store import session_scope
from core.store.tables import Ticket
from tests.backoffice.staff.conftest import sign_in
from tests.backoffice.staff.test_pages import decide, open_ticket


def page_text(at) -> str:
    return "\n".join(str(e.value) for kind in ("text", "info", "warning") for e in at.get(kind))


def test_first_approval_waits_and_a_second_person_confirms_into_a_pending_reset(world, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "true")
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "24")
    get_settings.cache_clear()
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    decide(at, "Approve", "Verified on a video call")
    at.button(key="t_confirm").click().run()
    at = open_ticket(at, world.weak_ticket)
    text = page_text(at)
    assert "Approved first by ann" in text
    assert "Confirmed by — waiting for a different staff member" in text

    at = open_ticket(sign_in(world, "bob"), world.weak_ticket)
    decide(at, "Approve", "")
    at.button(key="t_confirm").click().run()
    at = open_ticket(at, world.weak_ticket)
    text = page_text(at)
    assert "Approved first by ann" in text and "Confirmed by bob" in text
    assert "2FA reset pending: takes effect on" in text
    with session_scope(world.engine) as s:
        assert s.get(Ticket, world.weak_ticket).status == "approved"
