"""The stored raw copy keeps no token, whatever disguise it came in (issue #10 items 2 and
3): every case of ``tests.support.token_disguises`` is read back from the stored copy the
way a MIME reader would, and the token's letters must not be found."""

from __future__ import annotations

import pytest

from core.inbound.parsing import parse_message
from core.inbound.redaction import contains_token, redact_raw
from tests.support.mail import recovery_email
from tests.support.token_disguises import TOKEN, cases, leaks


@pytest.mark.parametrize("disguise", cases())
def test_the_disguise_really_holds_the_token(disguise):
    assert leaks(disguise.build(TOKEN))


@pytest.mark.parametrize("disguise", cases())
def test_the_stored_copy_keeps_no_token(disguise):
    raw = disguise.build(TOKEN)
    try:
        hidden = parse_message(raw, max_bytes=10**7).hides_token
    except Exception:  # quarantined mail is stored too, redacted the slow way
        hidden = True
    stored = redact_raw(raw, hidden=hidden)
    assert not leaks(stored)
    assert not contains_token(stored)
    assert stored.startswith(b"From: Alice") or b"From: Alice" in stored[:2000]


@pytest.mark.parametrize("disguise", cases())
def test_redaction_is_found_without_the_parser_hint(disguise):
    """``hidden`` only saves work: with it forced on, nothing changes for the clean cases."""
    stored = redact_raw(disguise.build(TOKEN), hidden=True)
    assert not leaks(stored)


def test_token_like_text_buried_in_hostile_markup_is_withheld_not_read_for_ever():
    """Reading tokens split by markup costs Python work per tag; a message that would make
    that unbounded (token-like words all through megabytes of tags) has the part dropped."""
    word = TOKEN[3:]
    page = ("<b>x</b> " * 900 + f"<p>{word[:9]}<i></i>{word[9:]}</p>") * 200
    raw = recovery_email(html=page)
    stored = redact_raw(raw, hidden=parse_message(raw, max_bytes=10**8).hides_token)
    assert not leaks(stored)
    assert b"could not be masked reliably" in stored or b"body removed" in stored
