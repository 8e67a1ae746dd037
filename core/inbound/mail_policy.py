"""The email policy inbound mail is parsed with: the standard library's modern policy
(``email.policy.default``) with a header factory that remembers the header objects it made.

Hand-written because the standard library has no such option and no maintained library
adds one. Under the modern policy every ``msg.get(...)`` builds a new header object by
running the RFC 5322 header parser again, and the parser itself asks for a part's
Content-Type several times while it reads the part (``get_content_maintype``,
``get_content_type``, ``get_boundary``...): for a short recovery email that re-parsing is
~85 % of ``message_from_bytes``. Header objects are immutable values of (name, text), so
the same (name, text) may share one: same classes, same parse, same defects, only made once.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import Compat32, EmailPolicy, default
from functools import lru_cache

from core.inbound.limits import MAX_HEADER_CHARS

MAX_REMEMBERED_VALUE = 2_000
"""Longer values (long References chains, hostile headers) are parsed each time instead of
being kept alive by the cache."""
REMEMBERED_HEADERS = 4_096


class RememberingHeaderRegistry(HeaderRegistry):
    """``HeaderRegistry`` whose results are shared by (name, value), least recently used
    forgotten first; thread-safe (``functools.lru_cache``)."""

    def __init__(self) -> None:
        super().__init__()
        self._remembered = lru_cache(maxsize=REMEMBERED_HEADERS)(super().__call__)

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > MAX_REMEMBERED_VALUE:
            return super().__call__(name, value)
        return self._remembered(name, value)


INBOUND_POLICY: EmailPolicy = default.clone(header_factory=RememberingHeaderRegistry())


class BoundedCompat32(Compat32):
    """``compat32`` for building the tree, with every header value cut to
    ``MAX_HEADER_CHARS`` at a space: the standard library's parameter and header parsers
    are quadratic (a 300 KB Content-Type cost 1.3 s per ``get_content_charset``), and no
    legitimate header is that long."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
            space = max(value.rfind(" "), value.rfind("\t"))
            value = value[:space] if space > 0 else value
        return name, value


STRUCTURE_POLICY = BoundedCompat32()


def parse_bytes(raw: bytes, *, headers_only: bool = False) -> EmailMessage:
    """``email.message_from_bytes(raw, policy=default)``, with remembered header objects.

    The tree is built under ``compat32`` and each part then given the inbound policy: the
    parser reads every part's Content-Type while it builds the tree, and under the modern
    policy that runs the RFC 5322 header parser, whose cost grows with the square of the
    value (a 200 KB Content-Type took 12 s and 1 GB). Both policies store a header as the
    same unfolded text and split the tree on the same Content-Type strings, so the result
    is the modern tree, its header objects made only when read. Header values are cut to
    ``MAX_HEADER_CHARS`` (``BoundedCompat32``)."""
    msg = BytesParser(EmailMessage, policy=STRUCTURE_POLICY).parsebytes(
        raw, headersonly=headers_only
    )
    for part in msg.walk():
        part.policy = INBOUND_POLICY
    return msg  # type: ignore[return-value]
