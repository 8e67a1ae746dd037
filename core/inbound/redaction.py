"""Access tokens out of the stored raw copy, found the way a reader would find them.

Two passes. The byte pass masks every token written as such in the raw bytes (exact, case
or separator variants, the bare 34 letters) in place, same length, so the rest of the
message stays byte for byte. The decoding pass reads what a MIME reader shows: every
header with its RFC 2047 words and RFC 2231 parameters decoded, every part (chosen
alternative or not, attachments, nested messages) through its transfer encoding (however
the header is spaced or cased) and its charset, HTML with tags, comments and entities
between the letters (``core.accounts.token_text``). A part or header holding a token that
only decoding shows is rewritten: a text part with a reliable charset is masked and
re-encoded as UTF-8; any other part (a binary attachment, text whose charset is a guess)
is replaced by a note. The result is checked again; if a token would still survive, only
the masked headers and a note are kept: storing it is never worth it."""

from __future__ import annotations

import base64
import binascii
import email
import re
from collections.abc import Callable, Iterator
from email.header import Header
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import quote, unquote

from core.accounts.token_text import TooMuchMarkup, find_tokens, mask_found
from core.inbound.charsets import (
    codec_for,
    declared_charset,
    decode_bytes,
    decode_words,
    recover_8bit,
)
from core.inbound.limits import MAX_HEADER_CHARS, structure_problem
from core.inbound.mail_policy import STRUCTURE_POLICY

TOO_MUCH = "(too much markup to read)"
RAW_MASK = "hf_" + "*" * 30
"""Followed by the token's last 4 letters: as long as a token, and not itself one."""
PART_NOTE = "[part removed: it held an access token that could not be masked reliably]\n"
BODY_NOTE = b"\n\n[body removed: it held an access token that could not be redacted]\n"
PARAM_HEADERS = ("content-type", "content-disposition")
UU_ENCODINGS = ("x-uuencode", "uuencode", "x-uue", "uue")
PLAIN_ENCODINGS = ("", "7bit", "8bit", "binary")
STDLIB_DECODED = ("base64", "quoted-printable", *UU_ENCODINGS)
_B64_JUNK_RE = re.compile(rb"[^A-Za-z0-9+/]")
KEPT_HEADER_CHARS = MAX_HEADER_CHARS * 3 // 4
"""What a rewritten copy keeps of a longer header (folding adds a few per cent)."""
FIELD_NAME_RE = re.compile(rb"[\x21-\x39\x3b-\x7e]*:")
"""The start of a header line, as the standard library's feed parser tells one."""
MAX_FIELD_NAME = 64


def _mask(found) -> str:  # noqa: ANN001 (FoundToken)
    return RAW_MASK + found.last4


def mask_in_place(text: str) -> str:
    """``text`` with every token (and token disguise) replaced by ``RAW_MASK`` + last 4."""
    return mask_found(text, _mask)


def _mask_bytes(raw: bytes) -> bytes:
    """The byte pass: tokens written in the bytes as they are, masked; a plain token keeps
    its length. Latin-1 maps bytes to characters one to one, so offsets hold. Raises
    ``TooMuchMarkup`` for hostile markup around token-like text."""
    text = raw.decode("latin-1")
    out: list[str] = []
    at = 0
    for found in find_tokens(text):
        out += [text[at : found.start], _mask(found)]
        at = found.end
    out.append(text[at:])
    return "".join(out).encode("latin-1")


def _tokens(text: str) -> set[str]:
    """The tokens in ``text``, lower-cased; ``TOO_MUCH`` stands for one that hostile
    markup keeps from being read exactly (the part is then dropped)."""
    try:
        return {found.token.lower() for found in find_tokens(text)}
    except TooMuchMarkup:
        return {TOO_MUCH}


# --- reading a message as a MIME reader does -------------------------------------------


def _transfer_encoding(part: Message) -> str:
    """``Content-Transfer-Encoding`` as readers take it: trimmed, any case."""
    return str(part.get("content-transfer-encoding", "")).strip().lower()


def _lenient_b64(data: bytes) -> bytes:
    data = _B64_JUNK_RE.sub(b"", data.split(b"=", 1)[0])
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def _uu(data: bytes) -> bytes:
    out = bytearray()
    for line in data.splitlines():
        if line.startswith((b"begin ", b"end")) or not line.strip():
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            continue
    return bytes(out)


def _raw_body(part: Message) -> bytes:
    """The part's content as received (``get_payload()`` would decode 8-bit text with its
    charset; ``get_payload(decode=True)`` only undoes an exactly spelled encoding)."""
    if str(part.get("content-transfer-encoding", "")).lower() in STDLIB_DECODED:
        body = part.get_payload()
        if not isinstance(body, str):
            return b""
        return body.encode("utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _payloads(part: Message, body: bytes | None = None) -> list[bytes]:
    """The part's content as a reader may decode it: by its transfer encoding; for an
    encoding no reader knows, every decoding one might try. ``body``: ``_raw_body(part)``,
    when the caller has it."""
    data = _raw_body(part) if body is None else body
    cte = _transfer_encoding(part)
    if cte == "base64":
        return [_lenient_b64(data)]
    if cte == "quoted-printable":
        return [binascii.a2b_qp(data)]
    if cte in UU_ENCODINGS:
        return [_uu(data)]
    if cte in PLAIN_ENCODINGS:
        return [data]
    return [data, _lenient_b64(data), binascii.a2b_qp(data)]


def _texts(part: Message, data: bytes) -> Iterator[tuple[str, bool]]:
    """``data`` as text, with whether that reading is reliable (the declared charset, or
    plain ASCII/UTF-8) or a guess (UTF-16/32 without a declaration, Latin-1)."""
    declared = declared_charset(part)
    codec = codec_for(declared)
    yield decode_bytes(data, declared), codec is not None or data.isascii()
    if b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        for guess in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
            if guess != codec:
                yield data.decode(guess, "ignore"), False


def _header_text(value: str) -> str:
    text = str(value)
    if "=?" not in text and text.isascii():
        return text
    return decode_words(recover_8bit(text))


def _param_values(part: Message, name: str) -> list[str]:
    """The decoded values of a Content-Type/-Disposition header's parameters (RFC 2231
    continuations and percent-encoding undone)."""
    try:
        params = part.get_params(header=name) or []
    except Exception:  # damaged parameters: the header text is still checked whole
        return []
    values = []
    for _key, value in params[1:]:
        text = collapse_rfc2231_value(value)
        values += [text, unquote(text)]
    return values


def _header_views(part: Message, name: str, value: str) -> list[str]:
    """A header as a reader sees it: decoded words, and decoded parameters (RFC 2231)."""
    text = str(value)
    views = [_header_text(text)]
    if name.lower() in PARAM_HEADERS and ("*" in text or "%" in text):
        views += _param_values(part, name)
    return views


def _headers_may_hold(part: Message) -> bool:
    """One scan over all the part's decoded headers; a hit is then checked header by header.
    Headers in plain ASCII with no encoded word and no ``*`` or ``%`` (no RFC 2231 or
    percent-encoded parameter) read as written, so they are scanned as they are."""
    written = "\n".join(str(value) for _name, value in part.raw_items())
    if written.isascii() and not any(mark in written for mark in ("=?", "*", "%")):
        return bool(_tokens(written))
    views = [view for name, value in part.raw_items() for view in _header_views(part, name, value)]
    return bool(_tokens("\n".join(views)))


def _header_tokens(part: Message, name: str, value: str) -> set[str]:
    return set().union(*map(_tokens, _header_views(part, name, value)))


def _leaf_tokens(
    part: Message, *, as_written: str | None = None, body: bytes | None = None
) -> tuple[set[str], set[str]]:
    """Tokens in the leaf's content: (reliably read, only in a guessed reading). A reading
    equal to ``as_written`` is not read again (the caller has the tokens written as such).
    ``body``: ``_raw_body(part)``, when the caller has it."""
    reliable: set[str] = set()
    guessed: set[str] = set()
    for data in _payloads(part, body):
        for text, sure in _texts(part, data):
            if text != as_written:
                (reliable if sure else guessed).update(_tokens(text))
    return reliable, guessed - reliable


def _literal(text: str) -> set[str]:
    """Tokens the byte pass masks in ``text`` as it stands in the raw message."""
    return _tokens(str(text).encode("utf-8", "surrogateescape").decode("latin-1"))


ASCII_READING_CHARSETS = frozenset(
    {"us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "windows-1252",
     "cp1252"}
)  # fmt: skip
"""Declared charsets that read an ASCII byte as that ASCII character (UTF-7, UTF-16/32 or
EBCDIC do not)."""
AS_WRITTEN_TRANSFER = frozenset({"", "7bit", "8bit", "binary"})


def reads_as_written(msg: Message, raw: bytes) -> bool:
    """True when every reading of ``msg`` is its bytes as they stand: ``raw`` is ASCII with
    no encoded word, and no part has a transfer encoding, a charset that reads ASCII
    otherwise, or an RFC 2231 or percent-encoded parameter. Then the byte pass sees exactly
    what a mail reader decodes, and ``hidden_token`` has nothing to look for (the common
    recovery email)."""
    if not raw.isascii() or b"=?" in raw:
        return False
    for part in msg.walk():
        for name, value in part.raw_items():  # as written, whatever the part's policy
            name, value = name.lower(), str(value)
            if name == "content-transfer-encoding":
                if value.strip().lower() not in AS_WRITTEN_TRANSFER:
                    return False
            elif name in ("content-type", "content-disposition") and ("*" in value or "%" in value):
                return False
        charset = declared_charset(part)
        if charset is not None and charset not in ASCII_READING_CHARSETS:
            return False
    return True


def hidden_token(msg: Message, raw: bytes | None = None) -> bool:
    """True if a token shows anywhere in the parsed ``msg`` (every part, chosen alternative
    or not, every header) only once it is decoded, so the byte pass would miss it and the
    stored copy must be rewritten. With ``raw`` (the bytes ``msg`` was parsed from), a
    message that reads as written is answered without reading it twice."""
    if raw is not None and reads_as_written(msg, raw):
        return False
    for part in msg.walk():
        if _headers_may_hold(part) and any(
            _unseen(_header_tokens(part, name, value), lambda v=value: _literal(v))
            for name, value in part.raw_items()
        ):
            return True
        for extra in (part.preamble, part.epilogue):
            if extra and _unseen(_tokens(extra), lambda e=extra: _literal(e)):
                return True
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        body = _raw_body(part)
        written = body.decode("latin-1")
        found = set().union(*_leaf_tokens(part, as_written=written, body=body))
        if _unseen(found, lambda w=written: _tokens(w)):
            return True
    return False


def _unseen(found: set[str], literal: Callable[[], set[str]]) -> bool:
    """Some of ``found`` is not masked by the byte pass (``literal``, computed only then)."""
    return bool(found) and (TOO_MUCH in found or bool(found - literal()))


def _parse(raw: bytes) -> Message:
    """The tree as a MIME reader builds it, each header value cut to ``MAX_HEADER_CHARS``
    (``STRUCTURE_POLICY``): the standard library's header and parameter parsers are
    quadratic, and a hostile 1 MB Content-Type would cost minutes. What lies past the cut
    is not read, so a message with such a header is always rewritten (``redact_raw``):
    the rewritten copy keeps only what was read."""
    return email.message_from_bytes(raw, policy=STRUCTURE_POLICY)


def long_headers(raw: bytes) -> list[str]:
    """The names of the headers (of any part) of ``raw`` that may be longer than the
    bounded parse reads: a line that, with its continuation lines, runs past
    ``MAX_HEADER_CHARS`` and starts like a header field. A few C-speed passes; a long body
    line that starts like one only costs a rewrite."""
    if len(raw) <= MAX_HEADER_CHARS:
        return []
    text = raw.replace(b"\n ", b"  ").replace(b"\n\t", b"  ")  # one line per header
    step = MAX_HEADER_CHARS // 2  # a longer line holds a whole block of this many
    names: list[str] = []
    seen = 0
    for block in range(0, len(text), step):
        if block < seen or text.find(b"\n", block, block + step) != -1:
            continue
        start = text.rfind(b"\n", 0, block) + 1
        end = text.find(b"\n", block)
        seen = len(text) if end == -1 else end
        if seen - start > MAX_HEADER_CHARS and (field := FIELD_NAME_RE.match(text, start)):
            names.append(field.group(0)[:-1][:MAX_FIELD_NAME].decode("ascii"))
    return names


def has_long_header(raw: bytes) -> bool:
    """True if some header of ``raw`` may be longer than the bounded parse reads."""
    return bool(long_headers(raw))


def contains_token(raw: bytes) -> bool:
    """True if a token survives anywhere in ``raw``: in the bytes, or in any decoded part,
    header or parameter."""
    if _tokens(raw.decode("latin-1")):
        return True
    for part in _parse(raw).walk():
        if _headers_may_hold(part) and any(
            _header_tokens(part, name, value) for name, value in part.raw_items()
        ):
            return True
        if any(_tokens(extra) for extra in (part.preamble, part.epilogue) if extra):
            return True
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        if any(_leaf_tokens(part)):
            return True
    return False


# --- rewriting ----------------------------------------------------------------------


def _encoded_header(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _masked_params(part: Message, name: str) -> str | None:
    """The parameter header rebuilt with every value decoded and masked; None if damaged."""
    try:
        params = part.get_params(header=name)
    except Exception:  # damaged parameters: the caller replaces the header whole
        return None
    if not params:
        return None
    pieces = [params[0][0]]
    for key, value in params[1:]:
        text = mask_in_place(unquote(collapse_rfc2231_value(value)))
        if text.isascii():
            pieces.append('{}="{}"'.format(key, text.replace("\\", "\\\\").replace('"', '\\"')))
        else:
            pieces.append(f"{key}*=utf-8''{quote(text, safe='')}")
    return "; ".join(pieces)


def _kept(value: str) -> str:
    """A long header value cut at a blank to ``KEPT_HEADER_CHARS``, so the rewritten copy,
    folded again, is read whole by the bounded parse."""
    cut = value[:KEPT_HEADER_CHARS]
    blank = max(cut.rfind(" "), cut.rfind("\t"))
    return cut[:blank] if blank > 0 else cut


def _rewritten_header(part: Message, name: str, value: str) -> str | None:
    """The header's new value (cut if long, masked), or None if it stays as it is."""
    if len(str(value)) > KEPT_HEADER_CHARS:
        return _encoded_header(mask_in_place(_header_text(_kept(value))))
    if not _tokens(str(value)) and not _header_tokens(part, name, value):
        return None
    new = _masked_params(part, name) if name.lower() in PARAM_HEADERS else None
    return new or _encoded_header(mask_in_place(_header_text(value)))


def _rewrite_headers(part: Message) -> None:
    """Every header rewritten in place, in order (``replace_header`` would always change
    the first of several headers with one name, leaving a token in the second)."""
    items = list(part.raw_items())
    new = [_rewritten_header(part, name, value) for name, value in items]
    if not any(value is not None for value in new):
        return
    for name in dict.fromkeys(name.lower() for name, _ in items):
        del part[name]
    for (name, value), rewritten in zip(items, new, strict=True):
        if rewritten is None:
            part.set_raw(name, value)
        else:
            part[name] = rewritten


def _drop(part: Message) -> None:
    """Replace the part's content by a note, keeping its place (and masked headers)."""
    del part["Content-Transfer-Encoding"]
    del part["Content-Type"]
    part["Content-Type"] = 'text/plain; charset="us-ascii"'
    part.set_payload(PART_NOTE)


def _rewrite_leaf(part: Message) -> None:
    reliable, guessed = _leaf_tokens(part)
    if not reliable and not guessed:
        return
    guessed |= reliable & {TOO_MUCH}
    texts = list(_texts(part, _payloads(part)[0])) if _payloads(part) else []
    declared = texts[0][0] if texts and texts[0][1] else None
    if (
        guessed
        or declared is None
        or part.get_content_maintype() != "text"
        or _transfer_encoding(part) not in (*PLAIN_ENCODINGS, "base64", "quoted-printable")
    ):
        _drop(part)
        return
    del part["Content-Transfer-Encoding"]
    part.set_payload(mask_in_place(declared), charset="utf-8")


def _rewrite(raw: bytes) -> bytes:
    msg = _parse(raw)
    for part in msg.walk():
        _rewrite_headers(part)
        if part.preamble:
            part.preamble = mask_in_place(part.preamble)
        if part.epilogue:
            part.epilogue = mask_in_place(part.epilogue)
        if not part.is_multipart() and part.get_content_maintype() != "message":
            _rewrite_leaf(part)
    return msg.as_bytes()


def _lossy(raw: bytes) -> bytes:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    try:
        lossy = _mask_bytes(head) + BODY_NOTE
        clean = not has_long_header(lossy) and not contains_token(lossy)
    except Exception:  # headers the parser cannot read, or hostile ones: keep none
        clean = False
    return lossy if clean else b"Subject: [removed]" + BODY_NOTE


def redact_raw(raw: bytes, *, hidden: bool) -> bytes:
    """``raw`` with every access token masked. ``hidden`` (from ``hidden_token``, or True
    when the message could not be parsed) asks for the decoding pass, checked afterwards;
    a header longer than the bounded parse reads asks for it too, and the message is
    then rewritten with that header cut. If a token would still survive, or the message
    is too complex to read (see ``limits``), the message is reduced to its masked headers
    and a note."""
    try:
        masked = _mask_bytes(raw)
    except TooMuchMarkup:
        return _lossy(raw)
    long_header = has_long_header(raw)
    if not hidden and not long_header:
        return masked
    if structure_problem(raw) is not None:
        return _lossy(masked)
    try:
        if not long_header and not contains_token(masked):
            return masked
        rewritten = _rewrite(masked)
        if not has_long_header(rewritten) and not contains_token(rewritten):
            return rewritten
    except Exception:  # damaged structure: fall through to the lossy copy
        pass
    return _lossy(masked)
