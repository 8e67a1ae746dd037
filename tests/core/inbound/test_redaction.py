"""No access token survives in the stored raw copy, however it was encoded."""

from __future__ import annotations

import base64
import quopri

import pytest

from core.inbound.redaction import contains_token, redact_raw
from tests.support.mail import recovery_email

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"


def test_plain_token_masked_in_place_keeping_length():
    raw = recovery_email(body=f"token {TOKEN} thanks")
    stored = redact_raw(raw, token_found=True)
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
    stored = redact_raw(raw, token_found=True)
    assert not contains_token(stored)
    assert b"From: a@example.com" in stored


def test_token_in_encoded_subject():
    subject = "=?utf-8?b?" + base64.b64encode(f"tok {TOKEN}".encode()).decode() + "?="
    raw = f"From: a@example.com\r\nSubject: {subject}\r\n\r\nhi\r\n".encode()
    stored = redact_raw(raw, token_found=True)
    assert not contains_token(stored)


def test_token_in_base64_attachment():
    raw = recovery_email(attachments=[("token.txt", "application/octet-stream", TOKEN.encode())])
    stored = redact_raw(raw, token_found=True)
    assert not contains_token(stored)


def test_no_token_leaves_bytes_alone():
    raw = recovery_email()
    assert redact_raw(raw, token_found=False) == raw
