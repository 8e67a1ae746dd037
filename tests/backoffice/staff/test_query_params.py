"""Issue #10 item 8: a query parameter is untrusted input. ``?ticket=²`` (``str.isdigit``
accepts it), a 25-digit number or text never reach the database and never show a
traceback, signed out (before any authentication) or signed in."""

from __future__ import annotations

import pytest

from tests.backoffice.staff.conftest import new_app, shown, sign_in

BAD = ["²", "1" * 25, "-1", "0", "12abc", "٣", "#"]


@pytest.mark.parametrize("raw", BAD)
def test_signed_out_bad_ticket_parameter_shows_the_sign_in(world, raw):
    at = new_app(world)
    at.query_params["ticket"] = raw
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Support back office"]
    assert not at.error


@pytest.mark.parametrize("raw", BAD)
def test_signed_in_bad_ticket_parameter_is_one_line(world, raw):
    at = sign_in(world, "ann")
    at.query_params["ticket"] = raw
    at.switch_page("views/ticket.py").run()
    assert not at.exception, at.exception
    (error,) = [shown(e.value) for e in at.error]
    assert error.endswith("is not a ticket number."), error
    assert at.number_input(key="t_pick").value is None


def test_a_bad_deep_link_then_sign_in_lands_on_the_queue(world):
    at = new_app(world)
    at.query_params["ticket"] = "1" * 25
    at = sign_in(world, "ann", at=at)
    assert at.title[0].value == "Queue"
