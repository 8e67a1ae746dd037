"""Bytes and header words into text, never worse than the standard library shows them: a
declared charset is read as its superset (what mail clients really send under that label)
and leniently before it is given up; UTF-8 is tried before any 8-bit guess; RFC 2047
encoded words are decoded one by one in linear time, a damaged or unknown one leniently
instead of being kept as ``=?...?=``."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.message import Message
from functools import lru_cache

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "cp-850": "cp850",
}
"""Declared charset (Python's codec name, or the label where Python knows none) → the
charset to decode with: the Windows or extended superset the sending clients really use."""
UNDECLARED = frozenset({"ascii", "x-unknown", "unknown-8bit", "unknown", "default", "8bit"})
"""Labels that say nothing about 8-bit bytes: such bytes are guessed (UTF-8, then cp1252)."""
NOT_ASCII_COMPATIBLE = ("utf-16", "utf-32", "utf-7", "iso2022", "hz")
CYRILLIC_RUN = 4
CYRILLIC_RUN_RE = re.compile(rb"[\xc0-\xff]{%d}" % CYRILLIC_RUN)
ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
"""An RFC 2047 word; spaces inside the text are accepted, as ``email.header`` accepts them."""


def declared_charset(part: Message) -> str | None:
    """The charset ``part``'s Content-Type declares (lower case), None when it declares
    none or a damaged one. The parse, the reading of its text and the check for hidden
    tokens each ask, and the standard library parses the header's parameters anew on every
    ``get_content_charset``: the answer is kept on the part, for as long as its
    Content-Type header and policy are the ones it was read from."""
    header = next((v for k, v in part.raw_items() if k.lower() == "content-type"), None)
    kept = part.__dict__.get("_declared_charset")
    if kept is not None and kept[0] is header and kept[1] is part.policy:
        return kept[2]
    try:
        charset = part.get_content_charset()
    except Exception:  # a damaged charset parameter: undeclared
        charset = None
    part.__dict__["_declared_charset"] = (header, part.policy, charset)
    return charset


def codec_for(charset: str | None) -> str | None:
    """The codec to decode text labelled ``charset`` with; None when the label is absent,
    unknown or says nothing (then the bytes are guessed)."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").split("*", 1)[0].lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        name = label
    except ValueError:  # an embedded NUL or similar in the label
        return None
    name = SUPERSETS.get(name, name)
    if name in UNDECLARED:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


@lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    """A one-byte-per-character codec (ISO 8859, Windows, KOI8...), which decodes nearly
    any bytes, so valid UTF-8 under its label is a mislabelled UTF-8 text."""
    try:
        return sum(len(bytes([b]).decode(codec, "ignore")) for b in range(0x80, 0x100)) > 64
    except LookupError:
        return False


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cyrillic(data: bytes) -> str | None:
    """KOI8-R or Windows-1251 for bytes that read as Cyrillic words: runs of
    ``CYRILLIC_RUN`` letters from 0xC0-0xFF (Western text seldom has four accented letters
    in a row). Lower case is most letters: 0xE0-0xFF in Windows-1251, 0xC0-0xDF in KOI8-R."""
    if CYRILLIC_RUN_RE.search(data) is None:
        return None
    high = sum(1 for b in data if b >= 0x80)
    upper_half = sum(1 for b in data if b >= 0xE0)
    lower_half = sum(1 for b in data if 0xC0 <= b < 0xE0)
    if (upper_half + lower_half) < 0.8 * high:
        return None
    return "koi8-r" if lower_half > upper_half else "cp1251"


def guess(data: bytes) -> str:
    """Undeclared 8-bit bytes: UTF-8 if they are UTF-8, else Cyrillic if they read as
    Cyrillic words, else Windows-1252, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    cyrillic = _cyrillic(data)
    if cyrillic:
        return data.decode(cyrillic)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` labelled ``charset`` as text; never raises. The label's superset is tried
    strictly, except that valid UTF-8 under a one-byte label is UTF-8 (a mislabelled
    client: a one-byte charset decodes anything); failing the label, valid UTF-8 is UTF-8,
    8-bit bytes labelled UTF-8 that hold no UTF-8 sequence at all are Windows-1252, and
    otherwise the label is kept with replacement characters for the bad bytes only."""
    codec = codec_for(charset)
    if codec is None:
        return data.decode("ascii") if data.isascii() else guess(data)
    if data.isascii() and not codec.startswith(NOT_ASCII_COMPATIBLE):
        return data.decode("ascii")
    if _single_byte(codec) and _is_utf8(data):
        return data.decode("utf-8")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    if _is_utf8(data):
        return data.decode("utf-8")
    if codec == "utf-8" and data.decode("utf-8", "ignore").isascii():
        return data.decode("cp1252", "replace")
    return data.decode(codec, "replace")


def has_surrogates(value: str) -> bool:
    """Header text parsed from bytes keeps undecodable octets as lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def recover_8bit(value: str, charset: str | None = None) -> str:
    """A header value with raw 8-bit octets (kept by the parser as surrogates) as text:
    UTF-8 if the octets are UTF-8, else ``charset`` (the body's), else a guess."""
    if not has_surrogates(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    if _is_utf8(data):
        return data.decode("utf-8")
    return decode_bytes(data, charset)


def _word_bytes(encoding: str, text: str) -> bytes:
    """The octets of one encoded word's text; damaged base64 or quoted-printable is read
    as far as it goes rather than refused."""
    raw = text.encode("ascii", "surrogateescape")
    if encoding in "Qq":
        return binascii.a2b_qp(raw, header=True)
    raw = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    raw = raw[: len(raw) - len(raw) % 4] if len(raw) % 4 == 1 else raw
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return b""


def decode_words(value: str, fallback: str | None = None) -> str:
    """``value`` with its RFC 2047 encoded words decoded. Adjacent words of one charset are
    joined before decoding (clients split multi-byte characters across words), whitespace
    between encoded words is dropped, and each run is decoded with ``decode_bytes``; an
    unknown charset falls back to ``fallback`` or a guess. One pass: linear in the input."""
    if "=?" not in value:
        return value
    out: list[str] = []
    run = bytearray()
    run_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal run_charset
        if run_charset is not None:
            charset = run_charset if codec_for(run_charset) else fallback
            out.append(decode_bytes(bytes(run), charset))
            run.clear()
            run_charset = None

    for match in ENCODED_WORD_RE.finditer(value):
        between = value[pos : match.start()]
        if run_charset is None or between.strip():
            flush()
            out.append(between)
        charset = match.group(1).split("*", 1)[0]
        if run_charset is not None and charset.lower() != run_charset.lower():
            flush()
        run_charset = charset
        run += _word_bytes(match.group(2), match.group(3))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)
