"""The inbound policy is the standard modern policy with remembered header objects: every
message parses to the same tree, headers, defects and contents as with
``policy=default``, and a header text is parsed once."""

from __future__ import annotations

import email
from email.message import Message
from email.policy import default

import pytest

from core.inbound.limits import MAX_HEADER_CHARS
from core.inbound.mail_policy import (
    INBOUND_POLICY,
    MAX_REMEMBERED_VALUE,
    RememberingHeaderRegistry,
    parse_bytes,
)
from tests.conftest import corpus_paths, require_corpus
from tests.support.mail import recovery_email


def _headers(part: Message) -> list[tuple]:
    """Each header as its object presents it (text and defects), or the error building it
    raises (the standard library's header parser fails on some real headers)."""
    shown = []
    for name, raw in part.raw_items():
        try:
            value = part.policy.header_fetch_parse(name, raw)
        except Exception as exc:  # the same failure must happen under both policies
            shown.append((name, type(exc).__name__))
            continue
        shown.append((name, str(value), [type(d).__name__ for d in value.defects]))
    return shown


def _shape(msg: Message) -> list[tuple]:
    """Everything a reader of the tree sees: per part, the headers as header objects
    present them, their defects, the content type, and the decoded payload."""
    shape = []
    for part in msg.walk():
        payload = None if part.is_multipart() else part.get_payload(decode=True)
        shape.append(
            (
                _headers(part),
                [type(d).__name__ for d in part.defects],
                part.get_content_type(),
                part.get_content_charset(),
                part.get_filename(),
                payload,
            )
        )
    return shape


@pytest.mark.parametrize("path", corpus_paths())
def test_corpus_parses_exactly_as_with_the_default_policy(path):
    require_corpus()
    raw = path.read_bytes()
    expected = _shape(email.message_from_bytes(raw, policy=default))
    assert _shape(parse_bytes(raw)) == expected
    assert _shape(parse_bytes(raw)) == expected  # second parse: every header remembered


def test_header_objects_are_made_once_per_name_and_text():
    registry = RememberingHeaderRegistry()
    first = registry("Content-Type", 'text/plain; charset="utf-8"')
    assert registry("Content-Type", 'text/plain; charset="utf-8"') is first
    assert first.content_type == "text/plain" and first.params["charset"] == "utf-8"
    other = registry("Content-Type", "text/html")
    assert other is not first and other.content_type == "text/html"
    assert registry("content-type", 'text/plain; charset="utf-8"') is not first  # name kept


def test_long_values_are_parsed_each_time_not_kept():
    registry = RememberingHeaderRegistry()
    references = " ".join(f"<{i}@example.org>" for i in range(MAX_REMEMBERED_VALUE // 10))
    assert len(references) > MAX_REMEMBERED_VALUE
    first = registry("References", references)
    again = registry("References", references)
    assert again is not first and str(again) == str(first)


def test_headers_only_and_the_policy_are_the_modern_ones():
    raw = recovery_email(sender="Zoë <zoe@example.org>", subject="=?utf-8?q?H=C3=A9llo?=", body="x")
    msg = parse_bytes(raw, headers_only=True)
    assert msg.policy is INBOUND_POLICY and INBOUND_POLICY.utf8 is default.utf8
    assert str(msg["subject"]) == "Héllo"
    assert msg["from"].addresses[0].addr_spec == "zoe@example.org"


def test_a_header_value_is_cut_at_a_space_to_the_bound_while_parsing():
    params = "; ".join(f'p{i}="v{i}"' for i in range(20_000))
    raw = f"From: a@example.com\r\nContent-Type: text/plain; {params}\r\n\r\nhi\r\n".encode()
    msg = parse_bytes(raw)
    value = next(v for k, v in msg.raw_items() if k == "Content-Type")
    assert len(value) <= MAX_HEADER_CHARS and value.endswith(";")
    assert msg.get_content_type() == "text/plain" and msg.get_content() == "hi\r\n"
