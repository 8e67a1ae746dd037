"""Access tokens out of the stored raw copy. A token typed in a plain ASCII body is masked in
place (same length, so the rest stays byte for byte); a token hidden by a transfer encoding
(base64, quoted-printable, RFC 2047) needs the affected parts re-encoded."""

from __future__ import annotations

import re
from email.message import Message

from core.inbound.charsets import decode_words
from core.inbound.mail_policy import parse_bytes

RAW_TOKEN_RE = re.compile(rb"hf_[A-Za-z]{30}([A-Za-z]{4})")
TEXT_TOKEN_RE = re.compile(r"hf_[A-Za-z]{30}([A-Za-z]{4})")
RAW_MASK = "hf_" + "*" * 30
"""Same length as a token and not itself a token, so a re-parse finds nothing to extract."""


def mask_in_place(text: str) -> str:
    return TEXT_TOKEN_RE.sub(lambda m: RAW_MASK + m.group(1), text)


def _mask_bytes(raw: bytes) -> bytes:
    return RAW_TOKEN_RE.sub(lambda m: RAW_MASK.encode() + m.group(1), raw)


def _leaf_has_token(part: Message) -> bool:
    payload = part.get_payload(decode=True)
    return isinstance(payload, bytes) and RAW_TOKEN_RE.search(payload) is not None


def _rewrite(raw: bytes) -> bytes:
    msg = parse_bytes(raw)
    for part in msg.walk():
        for name, value in list(part.items()):
            text = str(value)
            if TEXT_TOKEN_RE.search(text):
                part.replace_header(name, mask_in_place(text))
        if part.is_multipart() or not _leaf_has_token(part):
            continue
        payload = part.get_payload(decode=True)
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            charset, text = "utf-8", payload.decode("latin-1")
        del part["Content-Transfer-Encoding"]
        if part.get_content_maintype() == "text":
            part.set_payload(mask_in_place(text), charset=charset)
        else:
            part.set_payload(_mask_bytes(payload).decode("latin-1"), charset="latin-1")
    return msg.as_bytes()


def _raw_values(part: Message) -> list[str]:
    """A part's header values as received (no header objects built)."""
    return [str(value) for _name, value in part.raw_items()]


def _header_has_token(text: str) -> bool:
    """A token in a header value as written or once its RFC 2047 words are decoded
    (``charsets.decode_words``: lenient, so a good word beside a damaged one is read, and
    linear, where ``email.header`` took 24 s for 80,000 words)."""
    if TEXT_TOKEN_RE.search(text):
        return True
    if "=?" not in text:
        return False
    return TEXT_TOKEN_RE.search(decode_words(text)) is not None


ENCODED_CTE = ("base64", "quoted-printable", "x-uuencode", "uuencode", "x-uue", "uue")


def hidden_token(msg: Message) -> bool:
    """True if a token hides behind a transfer encoding or an encoded word anywhere in the
    parsed ``msg`` (every part, chosen alternative or not): masking the raw bytes would miss
    it. Literal tokens are not counted; byte masking handles those."""
    for part in msg.walk():
        if any("=?" in text and _header_has_token(text) for text in _raw_values(part)):
            return True
        if part.is_multipart():
            continue
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if cte in ENCODED_CTE and _leaf_has_token(part):
            return True
    return False


def contains_token(raw: bytes) -> bool:
    """True if a token survives anywhere in ``raw``: in the bytes or in any decoded part
    or header."""
    if RAW_TOKEN_RE.search(raw):
        return True
    msg = parse_bytes(raw)
    for part in msg.walk():
        if any(_header_has_token(text) for text in _raw_values(part)):
            return True
        if not part.is_multipart() and _leaf_has_token(part):
            return True
    return False


def redact_raw(raw: bytes, *, hidden: bool) -> bytes:
    """``raw`` with every access token masked. ``hidden`` (from ``hidden_token``, or True
    when the message could not be parsed) asks for the decode-and-rewrite path, checked
    afterwards; if a token would still survive, the message is reduced to its headers and
    a note: storing it is never worth it."""
    masked = _mask_bytes(raw)
    try:
        if not hidden or not contains_token(masked):
            return masked
    except Exception:  # bytes the parser cannot even walk: keep them, literal tokens masked
        return masked
    try:
        rewritten = _rewrite(masked)
    except Exception:  # damaged structure: fall through to the lossy copy
        rewritten = None
    if rewritten is not None and not contains_token(rewritten):
        return rewritten
    head = masked.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    note = b"\n\n[body removed: it held an access token that could not be redacted]\n"
    lossy = _mask_bytes(head) + note
    return lossy if not contains_token(lossy) else b"Subject: [removed]" + note
