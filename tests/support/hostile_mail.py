"""Crafted hostile messages of a chosen size, for the bounds tests and
``benchmarks/hostile_mail.py``: each shape once made a parse or a conversion run for
minutes or use hundreds of megabytes."""

from __future__ import annotations

import base64
from collections.abc import Callable

HEAD = (
    "From: Mallory <mallory@example.com>\r\n"
    "To: website@huggingface.co\r\n"
    "Message-ID: <hostile@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
)


def _message(headers: str, body: str | bytes) -> bytes:
    body_bytes = body.encode() if isinstance(body, str) else body
    return (HEAD + headers + "\r\n").encode() + body_bytes


def nested_lists_html(size: int) -> bytes:
    """An HTML body of ``<ol><li>`` opened and never closed (html2text: quadratic)."""
    unit = "<ol><li>x"
    html = "<html><body>" + unit * (size // len(unit)) + "</body></html>"
    return _message(
        "Subject: lists\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n",
        html,
    )


def flat_html(size: int) -> bytes:
    """A large, ordinary HTML body (paragraphs with links and bold text)."""
    unit = '<p>Hello <b>support</b>, see <a href="https://example.com/x">this</a>.</p>\n'
    return _message(
        "Subject: big html\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n",
        unit * (size // len(unit)),
    )


def encoded_word_subject(size: int) -> bytes:
    """A Subject of tens of thousands of RFC 2047 encoded words (``email.header``:
    quadratic)."""
    word = "=?utf-8?q?caf=C3=A9?="
    count = max(1, size // (len(word) + 3))
    subject = "\r\n ".join([word] * count)
    return _message(f"Subject: {subject}\r\nContent-Type: text/plain\r\n", "body\r\n")


def encoded_word_display_name(size: int) -> bytes:
    """A From display name and an attachment name made of encoded words."""
    word = "=?gb2312?b?ssLJqw==?="
    count = max(1, size // (len(word) + 3) // 2)
    words = "\r\n ".join([word] * count)
    headers = f"Subject: name\r\nContent-Type: multipart/mixed; boundary=b\r\nX-Name: {words}\r\n"
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        f"--b\r\nContent-Type: application/octet-stream\r\n"
        f'Content-Disposition: attachment; filename="{words}"\r\n\r\nxx\r\n--b--\r\n'
    )
    raw = _message(headers, body)
    return raw.replace(b"From: Mallory", b"From: " + words.encode(), 1)


def big_attachment(size: int) -> bytes:
    """One base64 attachment filling ``size``."""
    data = base64.encodebytes(b"\x89PNG" + b"\x01" * (size * 3 // 4))
    return _message(
        "Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n",
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="a.png"\r\n\r\n' + data + b"--b--\r\n",
    )


def many_parts(size: int) -> bytes:
    """A multipart of tiny parts filling ``size`` (one object per part in the parser)."""
    part = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    body = part * (size // len(part)) + "--b--\r\n"
    return _message("Subject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n", body)


def deep_multipart(size: int) -> bytes:
    """Multiparts nested inside each other as deep as ``size`` allows."""
    depth = max(1, size // 60)
    opening = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in range(depth, -1, -1))
    body = opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" + closing
    return _message("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n", body)


def deep_rfc822(size: int) -> bytes:
    """Forwarded messages nested inside each other as deep as ``size`` allows."""
    level = "From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\n"
    depth = max(1, size // len(level))
    inner = level * depth + "From: a@example.com\r\nSubject: inner\r\n\r\ninnermost\r\n"
    return _message("Subject: fwd\r\nContent-Type: message/rfc822\r\n", inner)


def long_header(size: int) -> bytes:
    """One header line of ``size`` bytes of comments and quoted pairs."""
    value = "(" * (size // 2) + ")" * (size // 2)
    return _message(f"Subject: long\r\nX-Long: {value}\r\nContent-Type: text/plain\r\n", "hi\r\n")


def long_content_type(size: int) -> bytes:
    """A Content-Type of ``size`` bytes of parameters, which the parser reads itself."""
    params = "; ".join(f'p{i}="=?utf-8?q?v{i}?="' for i in range(size // 24))
    return _message(f"Subject: params\r\nContent-Type: text/plain; {params}\r\n", "hi\r\n")


def big_text_body(size: int) -> bytes:
    """A plain-text body of ``size`` bytes (a pasted log), searched for evidence."""
    line = "2026-11-28 12:00:00 INFO ssh-ed25519 AAAA user@example.com SHA256: hf_ x\r\n"
    return _message(
        "Subject: log\r\nContent-Type: text/plain; charset=utf-8\r\n",
        line * (size // len(line)),
    )


def token_words_in_markup(size: int) -> bytes:
    """HTML of inline tags with a token-like word split by a tag every few hundred bytes:
    each window of it needs the exact (per-tag) token reading."""
    word = "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"
    unit = "<b>x</b> " * 50 + f"<p>{word[:9]}<i></i>{word[9:]}</p>\n"
    return _message(
        "Subject: markup\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n",
        unit * (size // len(unit)),
    )


SHAPES: dict[str, Callable[[int], bytes]] = {
    "nested-lists-html": nested_lists_html,
    "flat-html": flat_html,
    "encoded-word-subject": encoded_word_subject,
    "encoded-word-names": encoded_word_display_name,
    "big-attachment": big_attachment,
    "many-parts": many_parts,
    "deep-multipart": deep_multipart,
    "deep-rfc822": deep_rfc822,
    "long-header": long_header,
    "long-content-type": long_content_type,
    "big-text-body": big_text_body,
    "token-words-in-markup": token_words_in_markup,
}
