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
from email.policy import EmailPolicy, compat32, default
from functools import lru_cache

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


def parse_bytes(raw: bytes, *, headers_only: bool = False) -> EmailMessage:
    """``email.message_from_bytes(raw, policy=default)``, with remembered header objects.

    The tree is built under ``compat32`` and each part then given the inbound policy: the
    parser reads every part's Content-Type while it builds the tree, and under the modern
    policy that runs the RFC 5322 header parser, whose cost grows with the square of the
    value (a 200 KB Content-Type took 12 s and 1 GB). Both policies store a header as the
    same unfolded text and split the tree on the same Content-Type strings, so the result
    is the modern tree, its header objects made only when read."""
    msg = BytesParser(EmailMessage, policy=compat32).parsebytes(raw, headersonly=headers_only)
    for part in msg.walk():
        part.policy = INBOUND_POLICY
    return msg  # type: ignore[return-value]
