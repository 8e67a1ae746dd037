"""Issue #12 item 3: the decision form starts on the recommendation, refuses an empty
denial reason or request message at preview, keeps the chosen action when a preview is
cancelled, never shows a denial in green, and confirms in a sentence."""

from __future__ import annotations

from tests.backoffice.staff.conftest import shown, sign_in
from tests.backoffice.staff.test_pages import open_ticket


def test_the_default_action_follows_the_recommendation(world):
    at = open_ticket(sign_in(world, "ann"), world.strong_ticket)
    assert at.radio(key="t_action").value == "Approve"
    at = open_ticket(sign_in(world, "bob"), world.weak_ticket)
    assert at.radio(key="t_action").value == "Request more information"


def test_empty_reason_or_message_is_refused_at_preview(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    for action, error in (
        ("Deny", "A reason for the denial is required."),
        ("Request more information", "A message to the requester is required."),
    ):
        at.radio(key="t_action").set_value(action).run()
        at.button(key="t_preview").click().run()
        assert [shown(e.value) for e in at.error] == [error]
        assert "t_confirm" not in [b.key for b in at.button], "no preview to confirm"


def test_cancelling_a_preview_keeps_the_chosen_action_and_text(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    at.radio(key="t_action").set_value("Deny").run()
    at.text_area(key="t_text_denied").input("Not your key.")
    at.button(key="t_preview").click().run()
    at.button(key="t_cancel").click().run()
    assert at.radio(key="t_action").value == "Deny"
    assert at.text_area(key="t_text_denied").value == "Not your key."


def test_a_denial_is_not_green_and_the_confirmation_is_a_sentence(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    at.radio(key="t_action").set_value("Deny").run()
    at.text_area(key="t_text_denied").input("Not your key.")
    at.button(key="t_preview").click().run()
    at.button(key="t_confirm").click().run()
    assert not at.success
    assert f"Ticket #{world.weak_ticket}: denied; the email is queued." in [
        shown(i.value) for i in at.info
    ]
    assert any(shown(e.value).startswith("Denied by ann on ") for e in at.error)


def test_asking_for_more_reads_as_a_sentence(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    at.text_area(key="t_text_more_information_needed").input("Please sign the challenge.")
    at.button(key="t_preview").click().run()
    at.button(key="t_confirm").click().run()
    assert [shown(i.value) for i in at.info][0] == (
        f"Ticket #{world.weak_ticket}: asked the requester for more information; "
        "the email is queued."
    )
