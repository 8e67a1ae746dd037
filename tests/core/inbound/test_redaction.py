"""No access token survives in the stored raw copy, however it was encoded."""

from __future__ import annotations

import base64
import email
import quopri
from email.message import EmailMessage

import pytest

from core.inbound.limits import MAX_HEADER_CHARS
from core.inbound.mail_policy import parse_bytes
from core.inbound.parsing import parse_message
from core.inbound.redaction import (
    contains_token,
    has_long_header,
    hidden_token,
    reads_as_written,
    redact_raw,
)
from tests.support.mail import recovery_email
from tests.support.token_disguises import DISGUISES, build_unique, leaks

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"


def test_plain_token_masked_in_place_keeping_length():
    raw = recovery_email(body=f"token {TOKEN} thanks")
    stored = redact_raw(raw, hidden=True)
    assert TOKEN.encode() not in stored
    assert len(stored) == len(raw)
    assert b"hf_******************************TyUi" in stored
    assert not contains_token(stored)


@pytest.mark.parametrize(
    "cte,encode",
    [
        ("base64", lambda b: base64.encodebytes(b)),
        ("quoted-printable", lambda b: quopri.encodestring(b, quotetabs=True)),
    ],
)
def test_token_hidden_by_transfer_encoding(cte, encode):
    text = f"Grüße, mein Token ist {TOKEN}\n".encode()
    raw = (
        b"From: a@example.com\r\nMessage-ID: <e@x>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + encode(text)
    )
    assert TOKEN.encode() not in raw and contains_token(raw)
    stored = redact_raw(raw, hidden=True)
    assert not contains_token(stored)
    assert b"From: a@example.com" in stored


def test_token_in_encoded_subject():
    subject = "=?utf-8?b?" + base64.b64encode(f"tok {TOKEN}".encode()).decode() + "?="
    raw = f"From: a@example.com\r\nSubject: {subject}\r\n\r\nhi\r\n".encode()
    stored = redact_raw(raw, hidden=True)
    assert not contains_token(stored)


def test_token_in_encoded_subject_beside_a_damaged_word():
    """``email.header`` refuses the whole value (unknown charset in the second word); the
    good first word still carries a token and must be found and masked."""
    good = "=?utf-8?b?" + base64.b64encode(f"tok {TOKEN}".encode()).decode() + "?="
    raw = f"From: a@example.com\r\nSubject: {good} =?x-no-such?q?oops?=\r\n\r\nhi\r\n".encode()
    assert contains_token(raw)
    parsed = parse_message(raw, max_bytes=10**6)
    assert parsed.hides_token
    stored = redact_raw(raw, hidden=parsed.hides_token)
    assert not contains_token(stored) and stored.rstrip().endswith(b"\n\nhi")  # body kept


def test_token_in_base64_attachment():
    raw = recovery_email(attachments=[("token.txt", "application/octet-stream", TOKEN.encode())])
    stored = redact_raw(raw, hidden=True)
    assert not contains_token(stored)


def _alternative_with_base64_html(html: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("plain part without secrets")
    msg.add_alternative(html, subtype="html", cte="base64")
    return msg.as_bytes()


@pytest.mark.parametrize(
    "raw",
    [
        _alternative_with_base64_html(f"<p>only in the html part: {TOKEN}</p>"),
        recovery_email(attachments=[("t.txt", "application/octet-stream", TOKEN.encode())]),
        f"X-Note: =?utf-8?b?{base64.b64encode(TOKEN.encode()).decode()}?=\r\n".encode()
        + recovery_email(),
    ],
    ids=["unchosen-alternative", "attachment", "encoded-header"],
)
def test_pipeline_finds_hidden_tokens_wherever_they_are(raw):
    parsed = parse_message(raw, max_bytes=10**6)
    assert parsed.hides_token
    assert not contains_token(redact_raw(raw, hidden=parsed.hides_token))


def test_literal_token_is_not_hidden():
    assert not parse_message(recovery_email(body=f"t {TOKEN}"), max_bytes=10**6).hides_token


def test_no_token_leaves_bytes_alone():
    raw = recovery_email()
    assert redact_raw(raw, hidden=False) == raw


def _hostile_params(count: int) -> str:
    """RFC 2231 parameters the standard library's parser reads in quadratic time."""
    return "; ".join(f"p{i}*=utf-8''v%{i % 10}0" for i in range(count))


def test_a_huge_hostile_header_is_read_to_the_bound_and_cut_from_the_stored_copy():
    """A 1 MB Content-Type of encoded parameters (the unbounded parse took minutes over
    it) beside a token only base64 shows: the token is masked, the header kept up to
    what the bounded parse reads, the rest of the message as it was."""
    body = base64.encodebytes(f"token {TOKEN}\n".encode()).decode()
    raw = (
        "From: a@example.com\r\nSubject: hostile\r\n"
        f"Content-Type: text/plain; charset=utf-8; {_hostile_params(40_000)}\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{body}"
    ).encode()
    assert len(raw) > 800_000
    parsed = parse_message(raw, max_bytes=10**7)
    stored = redact_raw(raw, hidden=parsed.hides_token)
    assert not leaks(stored) and not contains_token(stored)
    assert b"From: a@example.com" in stored and b"Subject: hostile" in stored
    assert MAX_HEADER_CHARS // 2 < len(stored) < MAX_HEADER_CHARS
    body = email.message_from_bytes(stored).get_payload(decode=True)
    assert b"hf_" in body and body.endswith(b"TyUi\n")  # masked, not dropped


def test_a_token_past_the_read_bound_of_a_long_header_is_not_stored():
    """The bounded parse reads a header's first ``MAX_HEADER_CHARS``; an encoded token
    past them is unseen by every reading, so the header is cut where reading stopped."""
    word = "=?utf-8?b?" + base64.b64encode(f"tok {TOKEN}".encode()).decode() + "?="
    padding = " ".join(["padding"] * (MAX_HEADER_CHARS // 4))
    raw = (
        f"From: a@example.com\r\nSubject: hi\r\nX-Notes: {padding} {word}\r\n\r\nhello\r\n"
    ).encode()
    parsed = parse_message(raw, max_bytes=10**7)
    assert parsed.hides_token is False  # the parse cannot see it: the cut must decide
    stored = redact_raw(raw, hidden=parsed.hides_token)
    assert not leaks(stored)
    assert b"X-Notes: padding" in stored and stored.rstrip().endswith(b"hello")


def test_a_long_header_is_found_wherever_it_is_and_only_when_long():
    long_value = "x" * (MAX_HEADER_CHARS + 1)
    assert has_long_header(f"X-A: {long_value}\r\n\r\nhi".encode())
    folded = "\r\n ".join(["y" * 1_000] * 17)
    assert has_long_header(f"From: a@example.com\r\nX-B: {folded}\r\n\r\nhi".encode())
    nested = f"--b\r\nContent-Type: text/plain; {'q' * MAX_HEADER_CHARS}=1\r\n\r\nhi\r\n--b--"
    assert has_long_header(f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{nested}".encode())
    assert not has_long_header(f"X-C: {'z' * 1_000}\r\n\r\n{'body line ' * 5_000}".encode())
    assert has_long_header(b"X-D: " + b"w" * (MAX_HEADER_CHARS * 3))  # no line break at all
    assert not has_long_header(b"X-E: " + b"w" * (MAX_HEADER_CHARS - 20) + b"\r\n\r\nhi")


@pytest.mark.parametrize("disguise", DISGUISES, ids=lambda d: d.name)
def test_a_message_read_as_written_never_hides_a_token(disguise):
    """The quick answer (``reads_as_written``: the bytes are what any reader decodes) is
    given only where the full reading finds nothing hidden, for every disguise."""
    _token, raw = build_unique(disguise, 0)
    msg = parse_bytes(raw)
    if reads_as_written(msg, raw):
        assert not hidden_token(msg)


def test_a_plain_recovery_email_reads_as_written_and_an_encoded_one_does_not():
    plain = recovery_email(body="My username is alice.")
    assert reads_as_written(parse_bytes(plain), plain)
    changes = [
        (b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: quoted-printable"),
        (b'charset="utf-8"', b'charset="utf-7"'),
        (b"Subject: Lost my authenticator", b"Subject: =?utf-8?b?TG9zdA==?="),
        (b"alice.", "alicé.".encode()),
        (b'charset="utf-8"', b"charset*=utf-8''utf-8"),
    ]
    for before, after in changes:
        changed = plain.replace(before, after)
        assert changed != plain and not reads_as_written(parse_bytes(changed), changed), after
