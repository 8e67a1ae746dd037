"""Bounds (issue #11, class 6): structure is capped before the parse, HTML conversion and
header decoding are capped while reading, and a capped reading says so. The figures (time
and memory at the default limit) come from ``benchmarks/hostile_mail.py``; these tests
check that each bound holds and what falls back to what."""

from __future__ import annotations

import pytest

from core.inbound import html_text, limits
from core.inbound.html_text import html_to_text, strip_tags
from core.inbound.parsing import UnparseableMessage, parse_message
from tests.support import hostile_mail

LIMIT = 10 * 1024 * 1024


def parse(raw: bytes):
    return parse_message(raw, max_bytes=LIMIT)


@pytest.mark.parametrize(
    "shape,size,reason",
    [
        ("many-parts", 200_000, "MIME parts"),
        ("deep-multipart", 10_000, "multipart boundaries"),
        ("deep-rfc822", 50_000, "embedded messages"),
    ],
)
def test_too_much_structure_is_quarantined_with_the_reason(shape, size, reason):
    with pytest.raises(UnparseableMessage, match=reason):
        parse(hostile_mail.SHAPES[shape](size))


def test_structure_within_the_bounds_is_read():
    raw = hostile_mail.many_parts(limits.MAX_PARTS * 30)
    assert len(parse(raw).body_text) > 0


def test_nested_lists_fall_back_to_a_tag_strip_with_a_note():
    p = parse(hostile_mail.nested_lists_html(20_000))
    assert p.notes and "nested" in p.notes[0]
    assert p.body_text.startswith("x") and len(p.body_text) < 20_000


def test_html_past_the_conversion_budget_is_stripped_with_a_note():
    p = parse(hostile_mail.flat_html(html_text.MAX_CONVERTED_HTML + 10_000))
    assert p.notes and "plain tag strip" in p.notes[0]
    assert "Hello support, see this." in p.body_text


def test_the_conversion_budget_is_shared_by_every_html_part():
    half = "<p>" + "a" * (html_text.MAX_CONVERTED_HTML // 2 + 100) + "</p>"
    parts = "".join(
        f"--M\r\nContent-Type: text/html\r\n\r\n<b>part{i}</b>{half}\r\n" for i in range(3)
    )
    raw = (
        f"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n{parts}--M--\r\n"
    )
    p = parse(raw.encode())
    assert "**part0**" in p.body_text  # converted in full
    assert "part2" in p.body_text and "**part2**" not in p.body_text  # stripped
    assert len(p.notes) == 2


def test_an_ordinary_html_body_is_converted_in_full():
    text, note = html_to_text("<ul><li>one</li><li>two</li></ul><p>a <a href='u'>link</a></p>")
    assert note is None and "* one" in text and "[link](u)" in text


def test_the_tag_strip_drops_markup_scripts_and_comments():
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><p>Hi &amp; <b>bye</b>"
        "</p><!-- hidden --><div>a<br>b</div><script>evil()</script>x &lt; y<p unclosed"
    )
    assert strip_tags(html) == "Hi & bye\n\na\nb\nx < y"


def test_unclosed_comments_and_tags_do_not_backtrack():
    assert strip_tags("<!--" * 50_000 + "end") == ""
    assert strip_tags("a<b" * 50_000).startswith("a")


def test_tens_of_thousands_of_encoded_words_are_read_to_the_header_bound():
    p = parse(hostile_mail.encoded_word_subject(2_000_000))
    assert p.subject.startswith("cafécafé") and p.subject.endswith("café")
    assert len(p.subject) < limits.MAX_HEADER_CHARS


def test_encoded_word_names_and_long_parameters_are_bounded():
    p = parse(hostile_mail.encoded_word_display_name(400_000))
    assert p.from_addr == "" or p.sender_problem or p.from_addr
    assert all(len(a.filename or "") <= limits.MAX_HEADER_CHARS for a in p.attachments)
    p = parse(hostile_mail.long_content_type(400_000))
    assert p.body_text == "hi"


def test_a_large_message_is_refused_before_it_is_parsed():
    with pytest.raises(UnparseableMessage, match="exceeds"):
        parse_message(hostile_mail.big_attachment(200_000), max_bytes=100_000)
