"""Access tokens in every disguise a recovery email can give them, one parametrised case
each, and the reader that looks for them the way a person with the stored data would.

Each disguise builds a whole raw email around a token. ``leaks`` is deliberately separate
from the code under test (``core.accounts.token_text``, ``core.inbound.redaction``): it
decodes a stored message part by part as a MIME reader does (every transfer encoding,
declared charset and the usual guesses, RFC 2047 words, RFC 2231 parameters, HTML tags,
comments and entities, invisible characters, full-width forms) and asks whether the
token's 34 letters can still be read anywhere, in any case."""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import hashlib
import html
import quopri
import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.header import decode_header
from email.policy import compat32, default
from email.utils import collapse_rfc2231_value
from urllib.parse import unquote

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"
"""Not a real token: 34 mixed-case letters, as issued."""

CRLF = "\r\n"
HEAD = (
    "From: Alice Example <alice@example.com>\r\n"
    "To: website@huggingface.co\r\n"
    "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
)


@dataclass(frozen=True)
class Disguise:
    name: str
    build: Callable[[str], bytes]
    """The raw email for a token."""
    seen_as_token: bool = True
    """Whether the recovered text still verifies as the token (case kept)."""


def _message(
    body: bytes | str,
    *,
    content_type: str = 'text/plain; charset="utf-8"',
    cte: str | None = None,
    subject: str = "Lost my authenticator",
    headers: str = "",
    message_id: str = "<disguise@example.com>",
) -> bytes:
    head = HEAD + f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n" + headers
    head += f"Content-Type: {content_type}\r\n"
    if cte is not None:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head.encode("utf-8") + b"\r\n" + data


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _plain(text: Callable[[str], str]) -> Callable[[str], bytes]:
    return lambda t: _message(f"Hello, I lost my phone. {text(t)} Thanks.\r\n", cte="8bit")


def _encoded(charset: str, cte: str = "base64") -> Callable[[str], bytes]:
    def build(t: str) -> bytes:
        data = f"Hello, my token is {t}\n".encode(charset)
        body = _b64(data) if cte.strip().lower() == "base64" else quopri.encodestring(data)
        return _message(body, content_type=f'text/plain; charset="{charset}"', cte=cte)

    return build


def _eight_bit(charset: str) -> Callable[[str], bytes]:
    return lambda t: _message(
        f"Hello, my token is {t}\n".encode(charset),
        content_type=f'text/plain; charset="{charset}"',
        cte="8bit",
    )


def _html(markup: Callable[[str], str], cte: str = "8bit") -> Callable[[str], bytes]:
    def build(t: str) -> bytes:
        page = f"<html><body><p>My token: {markup(t)}</p></body></html>\n".encode()
        body = (
            _b64(page)
            if cte == "base64"
            else quopri.encodestring(page)
            if cte == "quoted-printable"
            else page
        )
        return _message(body, content_type='text/html; charset="utf-8"', cte=cte)

    return build


def _multipart(parts: list[tuple[str, bytes]], subtype: str = "mixed", preamble: str = "") -> bytes:
    """``parts``: (headers, body) each; headers without the trailing blank line."""
    boundary = "=_disguise_boundary"
    out = HEAD + "Subject: Lost my authenticator\r\nMessage-ID: <disguise@example.com>\r\n"
    out += f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n{preamble}'
    data = out.encode()
    for headers, body in parts:
        data += f"\r\n--{boundary}\r\n{headers}\r\n\r\n".encode() + body
    return data + f"\r\n--{boundary}--\r\n".encode()


PLAIN_PART = ('Content-Type: text/plain; charset="utf-8"', b"Hello, I lost my phone.\r\n")


def _attachment(
    headers: Callable[[str], str], body: Callable[[str], bytes]
) -> Callable[[str], bytes]:
    return lambda t: _multipart([PLAIN_PART, (headers(t), body(t))])


def _word(t: str, encoding: str = "b", charset: str = "utf-8", prefix: str = "token ") -> str:
    data = f"{prefix}{t}".encode(charset)
    if encoding == "b":
        return f"=?{charset}?b?{base64.b64encode(data).decode()}?="
    text = "".join(chr(b) if chr(b).isalnum() else f"={b:02X}" for b in data)
    return f"=?{charset}?q?{text}?="


def _split(t: str, at: int, glue: str) -> str:
    return t[:at] + glue + t[at:]


def _fullwidth(t: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in t)


def _entities(t: str, form: str = "{:d}") -> str:
    return "".join(f"&#{form.format(ord(c))};" for c in t)


def _nested(inner: Callable[[str], bytes]) -> Callable[[str], bytes]:
    return lambda t: _multipart(
        [PLAIN_PART, ("Content-Type: message/rfc822\r\nContent-Disposition: attachment", inner(t))]
    )


def _uuencode(data: bytes) -> bytes:
    lines = [b"begin 644 token.txt"]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n"))
    return b"\r\n".join([*lines, b"`", b"end", b""])


DISGUISES: list[Disguise] = [
    # typed into a plain-text body
    Disguise("plain", _plain(lambda t: f"My token is {t}.")),
    Disguise("plain-uppercase", _plain(lambda t: f"Token {t.upper()}"), seen_as_token=False),
    Disguise("plain-HF_-prefix", _plain(lambda t: "HF_" + t[3:])),
    Disguise("plain-hf-dash", _plain(lambda t: "hf-" + t[3:])),
    Disguise("plain-hf-colon-space", _plain(lambda t: "HF: " + t[3:])),
    Disguise("plain-hf-space", _plain(lambda t: "hf " + t[3:])),
    Disguise("plain-hf-no-separator", _plain(lambda t: "hf" + t[3:])),
    Disguise("plain-34-letters-only", _plain(lambda t: f"the letters after hf_ are {t[3:]}")),
    Disguise("plain-lowercase-letters-only", _plain(lambda t: t[3:].lower()), False),
    Disguise("plain-zero-width-space", _plain(lambda t: _split(t, 12, "\u200b"))),
    Disguise("plain-soft-hyphen", _plain(lambda t: _split(t, 20, "\u00ad"))),
    Disguise("plain-word-joiner", _plain(lambda t: _split(t, 7, "\u2060"))),
    Disguise("plain-fullwidth", _plain(_fullwidth)),
    Disguise("plain-markdown-bold", _plain(lambda t: _split(_split(t, 14, "**"), 7, "**"))),
    Disguise("plain-markdown-code", _plain(lambda t: f"`{t}`")),
    Disguise(
        "plain-markdown-italic-underscores", _plain(lambda t: _split(_split(t, 14, "_"), 7, "_"))
    ),
    Disguise("plain-in-angle-brackets", _plain(lambda t: f"<{t}>")),
    Disguise("plain-in-url", _plain(lambda t: f"https://huggingface.co/?token={t}&x=1")),
    # hidden by a transfer encoding or a charset
    Disguise("base64-utf8", _encoded("utf-8")),
    Disguise("quoted-printable-utf8", _encoded("utf-8", "quoted-printable")),
    Disguise("base64-cte-trailing-space", _encoded("utf-8", "base64 ")),
    Disguise("base64-cte-uppercase", _encoded("utf-8", "BASE64")),
    Disguise("quoted-printable-cte-trailing-space", _encoded("utf-8", "quoted-printable  ")),
    Disguise("base64-utf16", _encoded("utf-16")),
    Disguise("base64-utf16le", _encoded("utf-16-le")),
    Disguise("base64-utf16be", _encoded("utf-16-be")),
    Disguise("base64-utf32", _encoded("utf-32")),
    Disguise("base64-utf7", _encoded("utf-7")),
    Disguise("8bit-cp500-ebcdic", _eight_bit("cp500")),
    Disguise("8bit-cp1026-ebcdic", _eight_bit("cp1026")),
    Disguise("8bit-utf16", _eight_bit("utf-16")),
    Disguise(
        "quoted-printable-soft-break-inside",
        lambda t: _message(
            f"Hello, my token is {t[:15]}=\r\n{t[15:]}\r\n",
            content_type='text/plain; charset="utf-8"',
            cte="quoted-printable",
        ),
    ),
    Disguise(
        "quoted-printable-every-byte",
        lambda t: _message(
            "".join(f"={b:02X}" for b in f"token {t}".encode()) + "\r\n",
            cte="quoted-printable",
        ),
    ),
    Disguise(
        "uuencoded",
        lambda t: _message(_uuencode(f"token {t}\n".encode()), cte="x-uuencode"),
    ),
    Disguise(
        "base64-unknown-cte-label",
        lambda t: _message(_b64(f"token {t}".encode()), cte="x-base64"),
    ),
    Disguise(
        "undeclared-utf16-attachment",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment; filename=token.txt\r\n"
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(f"token {t}\n".encode("utf-16")),
        ),
    ),
    Disguise(
        "mislabelled-ascii-but-utf16",
        lambda t: _message(
            _b64(f"token {t}\n".encode("utf-16")),
            content_type='text/plain; charset="us-ascii"',
            cte="base64",
        ),
    ),
    # HTML
    Disguise("html-literal", _html(lambda t: t)),
    Disguise("html-empty-span-split", _html(lambda t: _split(t, 5, "<span></span>"))),
    Disguise("html-bold-split", _html(lambda t: t[:7] + "<b>" + t[7:20] + "</b>" + t[20:])),
    Disguise("html-comment-split", _html(lambda t: _split(t, 9, "<!-- not a token -->"))),
    Disguise("html-inside-comment", _html(lambda t: f"see below<!-- {t} -->")),
    Disguise("html-in-link-address", _html(lambda t: f'<a href="https://hf.co/?t={t}">link</a>')),
    Disguise("html-bare-in-attribute", _html(lambda t: f'<span title="{t[3:]}">hi</span>')),
    Disguise("plain-inside-unclosed-comment", _plain(lambda t: f"<!-- {t}")),
    Disguise(
        "html-styled-span-split", _html(lambda t: _split(t, 11, '<span style="x">') + "</span>")
    ),
    Disguise("html-decimal-entities", _html(_entities)),
    Disguise("html-hex-entities", _html(lambda t: _entities(t, "x{:x}"))),
    Disguise("html-entity-prefix-only", _html(lambda t: "&#104;&#102;&lowbar;" + t[3:])),
    Disguise("html-zero-width-entity", _html(lambda t: _split(t, 16, "&#8203;"))),
    Disguise("html-uppercase-in-bold", _html(lambda t: "<b>HF-</b>" + t[3:].upper()), False),
    Disguise("html-base64", _html(lambda t: _split(t, 6, "<i></i>"), cte="base64")),
    Disguise(
        "html-quoted-printable", _html(lambda t: _split(t, 6, "<u></u>"), cte="quoted-printable")
    ),
    Disguise(
        "only-in-unchosen-html-alternative",
        lambda t: _multipart(
            [
                PLAIN_PART,
                (
                    'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64',
                    _b64(f"<p>token {_split(t, 8, '<span></span>')}</p>".encode()),
                ),
            ],
            subtype="alternative",
        ),
    ),
    Disguise(
        "html-attachment",
        _attachment(
            lambda t: (
                'Content-Type: text/html; charset="utf-8"\r\n'
                "Content-Disposition: attachment; filename=page.html\r\n"
                "Content-Transfer-Encoding: quoted-printable"
            ),
            lambda t: quopri.encodestring(f"<p>{_entities(t[:5])}{t[5:]}</p>".encode()),
        ),
    ),
    # headers
    Disguise("subject-literal", lambda t: _message("hi\r\n", subject=f"my token {t}")),
    Disguise("subject-encoded-word-b", lambda t: _message("hi\r\n", subject=_word(t))),
    Disguise("subject-encoded-word-q", lambda t: _message("hi\r\n", subject=_word(t, "q"))),
    Disguise(
        "subject-split-across-encoded-words",
        lambda t: _message("hi\r\n", subject=_word(t[:10]) + " " + _word(t[10:], prefix="")),
    ),
    Disguise(
        "subject-encoded-word-utf16",
        lambda t: _message("hi\r\n", subject=_word(t, charset="utf-16")),
    ),
    Disguise(
        "references-message-id", lambda t: _message("hi\r\n", headers=f"References: <{t}@x>\r\n")
    ),
    Disguise(
        "in-reply-to-message-id", lambda t: _message("hi\r\n", headers=f"In-Reply-To: <{t}@x>\r\n")
    ),
    Disguise("message-id", lambda t: _message("hi\r\n", message_id=f"<{t}@x>")),
    Disguise("x-header-encoded", lambda t: _message("hi\r\n", headers=f"X-Note: {_word(t)}\r\n")),
    Disguise(
        "second-of-two-same-name-headers",
        lambda t: _message("hi\r\n", headers=f"X-Note: fine\r\nX-Note: {_word(t)}\r\n"),
    ),
    Disguise(
        "from-display-name",
        lambda t: _message("hi\r\n").replace(b"From: Alice Example", f"From: Alice {t}".encode()),
    ),
    Disguise(
        "content-description",
        lambda t: _message("hi\r\n", headers=f"Content-Description: {_word(t, 'q')}\r\n"),
    ),
    # attachments and their parameters
    Disguise(
        "text-attachment-base64",
        _attachment(
            lambda t: (
                'Content-Type: text/plain; charset="utf-8"\r\n'
                "Content-Disposition: attachment; filename=token.txt\r\n"
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(f"{t}\n".encode()),
        ),
    ),
    Disguise(
        "binary-attachment-base64",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment; filename=blob.bin\r\n"
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"\x00\x01" + t.encode() + b"\xff"),
        ),
    ),
    Disguise(
        "filename-rfc2231-percent",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                f"Content-Disposition: attachment; filename*=utf-8''{t[:2]}%5F{t[3:]}.txt\r\n"
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"nothing here"),
        ),
    ),
    Disguise(
        "filename-rfc2231-continuations",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                f'Content-Disposition: attachment; filename*0="{t[:12]}";\r\n'
                f' filename*1="{t[12:25]}"; filename*2="{t[25:]}.txt"\r\n'
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"nothing here"),
        ),
    ),
    Disguise(
        "filename-rfc2231-encoded-continuations",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                f"Content-Disposition: attachment; filename*0*=utf-8''{t[:2]}%5F{t[3:12]};\r\n"
                f" filename*1*={t[12:].replace('Q', '%51')}.txt\r\n"
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"nothing here"),
        ),
    ),
    Disguise(
        "filename-encoded-word",
        _attachment(
            lambda t: (
                "Content-Type: application/octet-stream\r\n"
                f'Content-Disposition: attachment; filename="{_word(t)}"\r\n'
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"nothing here"),
        ),
    ),
    Disguise(
        "content-type-name-parameter",
        _attachment(
            lambda t: (
                f'Content-Type: application/octet-stream; name="{t}.txt"\r\n'
                "Content-Transfer-Encoding: base64"
            ),
            lambda t: _b64(b"nothing here"),
        ),
    ),
    Disguise(
        "nested-message-body-base64",
        _nested(lambda t: _message(_b64(f"forwarded: {t}".encode()), cte="base64")),
    ),
    Disguise(
        "nested-message-encoded-subject",
        _nested(lambda t: _message("forwarded\r\n", subject=_word(t))),
    ),
    Disguise(
        "nested-message-html-split",
        _nested(_html(lambda t: _split(t, 10, "<b></b>"), cte="quoted-printable")),
    ),
    Disguise(
        "multipart-preamble",
        lambda t: _multipart([PLAIN_PART], preamble=f"This is a MIME message. {t}\r\n"),
    ),
]


# --- reading stored data the way a person with a MIME reader would --------------------

_TAGS = re.compile(r"<!--.*?(?:-->|\Z)|<[A-Za-z/!][^<>]*>", re.S)


_NOT_LETTERS = re.compile(r"[^A-Za-z]+")


def _letters(text: str) -> str:
    """The ASCII letters a reader sees in ``text``, in order, lower-cased: tags and
    comments dropped, entities and full-width forms read, everything else ignored."""
    text = html.unescape(_TAGS.sub("", html.unescape(text)))
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", text)).lower()


def _decodings(data: bytes, charset: str | None) -> Iterator[str]:
    for codec in (
        charset,
        "utf-8",
        "latin-1",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-7",
        "cp500",
    ):
        if not codec:
            continue
        try:
            yield data.decode(codec, "ignore")
        except LookupError:
            continue


def _payloads(part: email.message.Message) -> Iterator[bytes]:
    body = part.get_payload()
    if not isinstance(body, str):
        return
    raw = body.encode("utf-8", "surrogateescape")
    yield raw
    yield part.get_payload(decode=True) or b""
    stripped = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    stripped = stripped[:-1] if len(stripped) % 4 == 1 else stripped
    yield base64.b64decode(stripped + b"=" * (-len(stripped) % 4))
    yield quopri.decodestring(raw)
    lines = [line for line in raw.splitlines() if line and not line.startswith((b"begin", b"end"))]
    uu = b""
    for line in lines:
        with contextlib.suppress(binascii.Error):
            uu += binascii.a2b_uu(line)
    yield uu


def _decoded_words(value: str) -> str:
    """RFC 2047 words as ``email.header`` decodes them; a damaged value as written."""
    try:
        chunks = decode_header(value)
    except Exception:  # a damaged word: the other readings still count
        return value
    return "".join(
        chunk.decode(cs or "latin-1", "ignore") if isinstance(chunk, bytes) else chunk
        for chunk, cs in chunks
    )


def readable_texts(raw: bytes) -> Iterator[str]:
    """Everything a reader of ``raw`` could see: the bytes, every header decoded (RFC 2047,
    RFC 2231), every part's content in its charset and the usual guesses."""
    yield from _decodings(raw, None)
    for policy in (compat32, default):
        msg = email.message_from_bytes(raw, policy=policy)
        for part in msg.walk():
            for name, value in part.items():
                yield str(value)
                yield _decoded_words(str(value))
                if name.lower() in ("content-type", "content-disposition"):
                    for _key, param in part.get_params(header=name) or []:
                        text = collapse_rfc2231_value(param)
                        yield text
                        yield unquote(text)
            for extra in (part.preamble, part.epilogue):
                if extra:
                    yield extra
            if part.is_multipart():
                continue
            charset = part.get_content_charset()
            for data in _payloads(part):
                yield from _decodings(data, charset)


def _views(text: str) -> list[str]:
    """The letters of ``text`` read as plain text (tags shown) and as HTML (tags hidden)."""
    plain = _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", text)).lower()
    return [plain, _letters(text)]


def readable_letters(stored: bytes | str) -> list[str]:
    """Every reading of ``stored`` (bytes: as a MIME message) reduced to its letters; read
    once, then searched for each token with ``leaks``."""
    texts = [stored] if isinstance(stored, str) else list(readable_texts(stored))
    return [view for text in texts for view in _views(text)]


def leaks(stored: bytes | str | list[str], token: str = TOKEN) -> bool:
    """True if ``token``'s 34 letters can be read anywhere in ``stored`` (any case):
    bytes, text, or the ``readable_letters`` of either."""
    letters = stored if isinstance(stored, list) else readable_letters(stored)
    wanted = token[3:].lower()
    return any(wanted in view for view in letters)


def cases() -> list:
    """The disguises as pytest parameters, by name."""
    import pytest

    return [pytest.param(d, id=d.name) for d in DISGUISES]


def token_for(name: str) -> str:
    """A distinct token per disguise, so a leak names the disguise that let it through."""
    digest = hashlib.sha256(name.encode()).digest() * 2
    return "hf_" + "".join(string.ascii_letters[b % 52] for b in digest[:34])


def build_unique(disguise: Disguise, n: int) -> tuple[str, bytes]:
    """``disguise`` with its own token and Message-ID (the message-id disguises keep theirs)."""
    token = token_for(disguise.name)
    raw = disguise.build(token).replace(b"<disguise@example.com>", f"<d{n}@example.com>".encode())
    return token, raw
