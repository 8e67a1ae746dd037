"""Parsing real-world mail: charsets, encoded words, HTML-only bodies, nested messages."""

from __future__ import annotations

import pytest

from core.inbound.parsing import UnparseableMessage, parse_message
from tests.conftest import corpus_bytes, corpus_paths, require_corpus
from tests.support.mail import recovery_email

LIMIT = 1_000_000


def parse(raw: bytes):
    return parse_message(raw, max_bytes=LIMIT)


def test_plain_message_fields():
    raw = recovery_email(
        message_id="<m1@example.com>", in_reply_to="<a@x>", references="<r@x> <a@x>"
    )
    p = parse(raw)
    assert p.message_id == "<m1@example.com>"
    assert (p.from_addr, p.from_name) == ("alice@example.com", "Alice Example")
    assert p.subject == "Lost my authenticator"
    assert "username is alice" in p.body_text
    assert p.thread_ids == ["<a@x>", "<r@x>"]


def test_rfc2047_subject_and_sender_name():
    raw = (
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <JM@Example.COM>\r\n"
        b"Subject: =?iso-8859-1?q?Zur=FCcksetzen?= =?utf-8?b?w6TDtsO8?=\r\n"
        b"Message-ID: <x@y>\r\n\r\nhallo\r\n"
    )
    p = parse(raw)
    assert p.from_name == "Jürgen Müller"
    assert p.from_addr == "jm@example.com"
    assert p.subject == "Zurücksetzenäöü"


def test_wrong_and_unknown_charsets_decode_without_error():
    latin1_claimed_utf8 = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nS\xe9bastien\r\n"
    )
    assert "bastien" in parse(latin1_claimed_utf8).body_text
    unknown = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\nabc \xe9\r\n"
    )
    assert parse(unknown).body_text.startswith("abc ")


def test_eight_bit_header_without_charset_is_storable():
    raw = corpus_bytes("russian-subject-no-content-type")
    p = parse(raw)
    p.subject.encode("utf-8")  # no lone surrogates
    p.body_text.encode("utf-8")


def test_gb18030_subject_and_body():
    p = parse(corpus_bytes("new-ticket-from-gb18030"))
    assert p.subject == "测试"
    assert p.body_text.strip() == "测试"


def test_html_only_body_becomes_text_without_wrapping():
    key = "ssh-ed25519 " + "A" * 200
    raw = recovery_email(
        body=None, html=f"<p>Hello <b>support</b></p><p>{key}</p><script>x</script>"
    )
    p = parse(raw)
    assert "Hello **support**" in p.body_text
    assert key in p.body_text
    assert "<p>" not in p.body_text


def test_alternative_prefers_plain_text():
    raw = recovery_email(body="plain version", html="<p>html version</p>")
    assert parse(raw).body_text.strip() == "plain version"


def test_rfc2231_filename_continuations():
    p = parse(corpus_bytes("rfc2231-attachment-filename-continuations"))
    names = [a.filename for a in p.attachments]
    assert any(n and n.endswith(".txt") and len(n) > 10 for n in names), names


def test_nested_rfc822_text_is_kept_for_evidence():
    p = parse(corpus_bytes("nested-rfc-822"))
    nested = [a for a in p.attachments if a.content_type == "message/rfc822"]
    assert nested and nested[0].text


def test_attachments_listed_and_pub_file_read():
    raw = recovery_email(
        attachments=[
            ("id_ed25519.pub", "application/octet-stream", b"ssh-ed25519 AAAA test\n"),
            ("photo.png", "image/png", b"\x89PNG" + b"\0" * 100),
        ]
    )
    p = parse(raw)
    by_name = {a.filename: a for a in p.attachments}
    assert by_name["id_ed25519.pub"].text.startswith("ssh-ed25519")
    assert by_name["photo.png"].text is None and by_name["photo.png"].size == 104
    assert by_name["photo.png"].as_dict() == {
        "filename": "photo.png",
        "content_type": "image/png",
        "size": 104,
    }


def test_too_large_and_senderless_messages_are_unparseable():
    raw = recovery_email(body="x" * 5000)
    with pytest.raises(UnparseableMessage, match="exceeds"):
        parse_message(raw, max_bytes=1000)
    with pytest.raises(UnparseableMessage, match="sender"):
        parse(corpus_bytes("lorem-ipsum"))


def test_delivery_report_exposes_original_message_id():
    p = parse(corpus_bytes("multipart-report"))
    assert p.report_type == "delivery-status"
    assert p.original_message_ids


@pytest.mark.parametrize("path", corpus_paths())
def test_corpus_parses_or_gives_a_reason(path):
    require_corpus()
    raw = path.read_bytes()
    try:
        p = parse(raw)
    except UnparseableMessage as exc:
        assert str(exc)
        return
    for text in [p.subject, p.body_text, p.from_name, *(a.text or "" for a in p.attachments)]:
        text.encode("utf-8")
