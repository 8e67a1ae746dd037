"""The Ticket page tells staff where a bound made a message's reading simpler (issue #11
item 6): a caption under that message's text, shown literally."""

from __future__ import annotations

from core.inbound import ingest_bytes
from core.inbound.html_text import MAX_CONVERTED_HTML
from core.store import session_scope
from tests.backoffice.staff.conftest import shown, sign_in
from tests.backoffice.staff.test_pages import open_ticket
from tests.core.inbound.test_reading_notes import html_only_email


def test_the_message_read_simplified_says_so_and_the_others_do_not(world):
    with session_scope(world.engine) as s:
        outcome = ingest_bytes(
            s, html_only_email(MAX_CONVERTED_HTML + 1_000), source="test", clock=world.clock
        )
    assert outcome.status == "ticket"

    at = open_ticket(sign_in(world, "ann"), outcome.ticket_id)
    captions = [shown(str(c.value)) for c in at.caption]
    (caption,) = [c for c in captions if c.startswith("Read simplified: ")]
    assert "read by a plain tag strip" in caption and caption.endswith(".")
    assert any("my username is alice" in str(c.value) for c in at.code)

    at = open_ticket(at, world.strong_ticket)  # read in full: no caption
    assert not [c for c in at.caption if "Read simplified" in shown(str(c.value))]
