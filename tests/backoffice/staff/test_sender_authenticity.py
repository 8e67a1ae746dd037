"""Issue #13 item 5 on the Ticket page: each requester message shows its SPF/DKIM/DMARC in
words, and a reply whose From failed DMARC shows as a flag on the report."""

from __future__ import annotations

from core.inbound import ingest_bytes
from core.settings import get_settings
from core.store import session_scope
from tests.backoffice.staff.conftest import recovery_email, shown, sign_in
from tests.backoffice.staff.test_pages import open_ticket

FAIL = "mx.support.example; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=fail"


def test_page_shows_results_per_message_and_flags_a_dmarc_failed_reply(world, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TRUSTED_AUTHSERV_IDS", "mx.support.example")
    get_settings.cache_clear()
    raw = recovery_email("alice@example.org", "It is really me, please hurry.", "<m9@example.org>")
    raw = f"Authentication-Results: {FAIL}\r\nIn-Reply-To: <m1@example.org>\r\n".encode() + raw
    with session_scope(world.engine) as s:
        outcome = ingest_bytes(s, raw, source="test", clock=world.clock)
    assert (outcome.status, outcome.ticket_id) == ("threaded", world.strong_ticket)

    at = open_ticket(sign_in(world, "ann"), world.strong_ticket)
    texts = [t.value for t in at.text]
    assert (
        "Sender authenticity: SPF, DKIM, DMARC: not checked (no trusted receiver is configured)"
        in texts
    )
    assert "Sender authenticity: SPF fail · DKIM none · DMARC fail (by mx.support.example)" in texts
    warnings = [shown(str(w.value)) for w in at.warning]
    assert "Reply 1 failed DMARC at mx.support.example: its From address may be forged." in warnings
    assert any("Review first" in shown(str(m.value)) for m in at.markdown)
