"""Queue, Ticket, Ops and Mail pages driven through AppTest against a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.settings import get_settings
from core.store import session_scope
from core.store.tables import OutboxEmail, Ticket
from tests.backoffice.staff.conftest import shown, sign_in


def open_ticket(at, ticket_id: int):
    at.query_params["ticket"] = str(ticket_id)
    at.switch_page("views/ticket.py").run()
    assert not at.exception, at.exception
    return at


def queue_ids(at) -> list[int]:
    return list(at.dataframe[0].value["#"]) if at.dataframe else []


def test_queue_lists_open_tickets_oldest_first_with_counts(world):
    at = sign_in(world, "ann")
    assert queue_ids(at) == [world.strong_ticket, world.weak_ticket]
    table = at.dataframe[0].value
    assert list(table["Account"]) == ["alice", "carol"]
    assert list(table["Evidence"]) == ["Strong", "Weak"]
    counts = {m.label: m.value for m in at.metric}
    assert counts["New"] == "2" and counts["Approved"] == "0"


def test_queue_search_and_filters(world):
    at = sign_in(world, "ann")
    at.text_input(key="q_search").input("carol").run()
    assert queue_ids(at) == [world.weak_ticket]
    at.text_input(key="q_search").input(f"#{world.strong_ticket}").run()
    assert queue_ids(at) == [world.strong_ticket]
    at.text_input(key="q_search").input("").run()
    at.multiselect(key="q_evidence").select("strong").run()
    assert queue_ids(at) == [world.strong_ticket]
    at.multiselect(key="q_evidence").unselect("strong")
    at.multiselect(key="q_status").set_value(["approved"]).run()
    assert queue_ids(at) == []
    assert any("No tickets in these statuses" in i.value for i in at.info)


def test_queue_opens_a_ticket_by_number(world):
    at = sign_in(world, "ann")
    at.number_input(key="q_open_id").set_value(world.weak_ticket).run()
    at.button(key="q_open").click().run()
    assert at.title[0].value.startswith(f"#{world.weak_ticket} · ")


def test_ticket_page_shows_plain_thread_redacted_evidence_report_and_account(world):
    at = open_ticket(sign_in(world, "ann"), world.strong_ticket)
    everything = " ".join(
        str(e.value) for kind in ("text", "code", "markdown", "caption") for e in getattr(at, kind)
    ) + " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert world.token not in everything
    assert "hf_…" + world.token[-4:] in everything
    assert "My token is hf_…" in " ".join(c.value for c in at.code)
    assert "Evidence: **Strong**" in everything
    assert "[PASS] Access token:" in everything
    assert "alice@example.org" in shown(everything)
    assert "Two-factor authentication: On" in everything
    assert "laptop · active" in everything
    assert not at.get("html") and not at.get("iframe")


def test_claim_collision(world):
    ann = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    ann.button(key="t_claim").click().run()
    assert any("Claimed by you" in c.value for c in ann.caption)
    bob = open_ticket(sign_in(world, "bob"), world.weak_ticket)
    assert any("ann is handling this ticket" in w.value for w in bob.warning)
    assert "t_preview" not in [b.key for b in bob.button]
    assert "t_claim" not in [b.key for b in bob.button]
    bob.text_area(key="t_note").input("Looked at it, ann has it.")
    bob.button(key="t_note_add").click().run()
    assert "Looked at it, ann has it." in [t.value for t in bob.text]
    with session_scope(world.engine) as s:
        assert s.get(Ticket, world.weak_ticket).assignee == "ann"


def decide(at, action: str, text: str):
    at.radio(key="t_action").set_value(action).run()
    kind = {"Approve": "approved", "Deny": "denied"}.get(action, "more_information_needed")
    at.text_area(key=f"t_text_{kind}").input(text)
    at.button(key="t_preview").click().run()
    assert not at.error, [e.value for e in at.error]
    return at


def test_approve_end_to_end(world, tmp_path, monkeypatch):
    at = open_ticket(sign_in(world, "ann"), world.strong_ticket)
    decide(at, "Approve", "")
    preview = " ".join(c.value for c in at.code)
    assert "hf_…" + world.token[-4:] in preview  # the approval says the token was revoked
    at.button(key="t_confirm").click().run()
    assert any("approved" in s.value for s in at.success)
    with session_scope(world.engine) as s:
        ticket = s.get(Ticket, world.strong_ticket)
        assert (ticket.status, ticket.decided_by) == ("approved", "ann")
        from core.accounts.users import find_user
        from core.twofactor import is_enabled

        assert not is_enabled(s, find_user(s, "alice"))
        emails = s.exec(
            select(OutboxEmail.template, OutboxEmail.to_addr).where(
                OutboxEmail.ticket_id == world.strong_ticket, OutboxEmail.template == "approved"
            )
        ).all()
    assert emails == [("approved", "alice@example.org")]
    assert_delivered(world, tmp_path, monkeypatch, "alice@example.org", "was reset")

    monkeypatch.setenv("BACKOFFICE_CAPTURE_DIR", str(tmp_path / "capture"))
    get_settings.cache_clear()
    at.switch_page("views/mail.py").run()
    captured_labels = [shown(e.label) for e in at.expander]
    assert any(label.startswith("To alice@example.org · [#1] ") for label in captured_labels)
    assert any("reset two-factor authentication on it" in c.value for c in at.code)


def assert_delivered(world, tmp_path, monkeypatch, to: str, subject: str) -> None:
    """Send the outbox through the real local capture and find the decision email there.
    The app ran on clocks a few TOTP steps ahead, so the sender looks an hour ahead."""
    from core.mail.capture import captured, start_capture
    from core.mail.sender import deliver_due
    from core.settings import get_settings
    from tests.support.smtp_sink import free_port

    port = free_port()
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(port))
    get_settings.cache_clear()
    controller = start_capture(tmp_path / "capture", port=port)
    try:
        deliver_due(world.engine, clock=lambda: world.clock() + timedelta(hours=1))
    finally:
        controller.stop()
    sent = [(m["To"], m["Subject"]) for m in captured(tmp_path / "capture")]
    assert any(t == to and subject in s for t, s in sent), sent


def test_weak_evidence_needs_an_override_reason(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    at.radio(key="t_action").set_value("Approve").run()
    assert "Override reason (required: the evidence is weak)" in [t.label for t in at.text_area]
    at.button(key="t_preview").click().run()
    at.button(key="t_confirm").click().run()
    assert any("override reason" in e.value for e in at.error)
    with session_scope(world.engine) as s:
        assert s.get(Ticket, world.weak_ticket).status == "new"


def test_deny_end_to_end(world, tmp_path, monkeypatch):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    decide(at, "Deny", "The key you sent belongs to no account you control.")
    assert "The key you sent belongs to no account you control." in " ".join(
        c.value for c in at.code
    )
    at.button(key="t_confirm").click().run()
    with session_scope(world.engine) as s:
        ticket = s.get(Ticket, world.weak_ticket)
        assert ticket.status == "denied"
        assert s.exec(
            select(OutboxEmail.to_addr).where(OutboxEmail.template == "denied")
        ).all() == ["carol@example.org"]
    assert_delivered(world, tmp_path, monkeypatch, "carol@example.org", "Re: Lost my 2FA device")


def test_request_more_information(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    decide(at, "Request more information", "Please sign the challenge with your key.")
    at.button(key="t_confirm").click().run()
    with session_scope(world.engine) as s:
        assert s.get(Ticket, world.weak_ticket).status == "awaiting_user"


def test_internal_note(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    at.text_area(key="t_note").input(f"Pasted {world.token} by mistake")
    at.button(key="t_note_add").click().run()
    texts = [t.value for t in at.text]
    assert any(t.startswith("Pasted hf_…") for t in texts)
    assert not any(world.token in t for t in texts)


def test_ops_page_figures_and_csv(world):
    at = sign_in(world, "olly")
    assert at.title[0].value == "Ops"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Received"] == "2" and metrics["Open backlog"] == "2"
    assert metrics["Approved / decided"] == "—" and metrics["Quarantined mail"] == "0"
    assert metrics["Median time to first response"] == "—"
    assert [b.key for b in at.get("download_button")] == ["ops_csv"]


def test_mail_page_lists_outbox_and_retries_a_failed_email(world):
    with session_scope(world.engine) as s:
        row = s.exec(select(OutboxEmail).order_by(OutboxEmail.id)).first()
        row.status, row.last_error = "failed", "550 mailbox unavailable"
        s.add(row)
        failed_id = row.id
    olly = sign_in(world, "olly")
    olly.switch_page("views/mail.py").run()
    assert "m_retry" not in [b.key for b in olly.button]
    assert any("needs an agent or admin" in c.value for c in olly.caption)
    at = sign_in(world, "ada")
    at.switch_page("views/mail.py").run()
    table = at.dataframe[0].value
    assert "550 mailbox unavailable" in list(table["Error"])
    at.button(key="m_retry").click().run()
    with session_scope(world.engine) as s:
        assert s.get(OutboxEmail, failed_id).status == "queued"


def test_selecting_a_queue_row_opens_the_ticket(world):
    at = sign_in(world, "ann")
    at.session_state["queue_table_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value.startswith(f"#{world.weak_ticket} · ")
    at.switch_page("views/queue.py").run()
    assert at.title[0].value == "Queue"


def test_unknown_ticket_is_one_readable_line(world):
    at = open_ticket(sign_in(world, "ann"), 999)
    assert [shown(e.value) for e in at.error] == ["No ticket #999. Check the number and try again."]
    assert at.number_input(key="t_pick").value is None, "the box to try another number"


def test_quarantined_mail_is_listed_and_reprocessed(world):
    from core.store.tables import InboundMessage

    with session_scope(world.engine) as s:
        row = s.exec(select(InboundMessage).order_by(InboundMessage.id)).first()
        row.status, row.reason = "quarantined", "parser crashed (test)"
        s.add(row)
        row_id = row.id
    at = sign_in(world, "ann")
    at.switch_page("views/mail.py").run()
    assert "Reason: parser crashed (test)" in [t.value for t in at.text]
    at.button(key=f"m_reprocess_{row_id}").click().run()
    assert not at.exception
    with session_scope(world.engine) as s:
        assert s.get(InboundMessage, row_id).status != "quarantined"
