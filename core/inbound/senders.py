"""Who sent a message: the first ``From`` address that is a valid RFC 5322 ``addr-spec``
(RFC 6532 allows UTF-8 in it). ``Test test@example.com`` or ``Claudia.Shu@yahoo.com.``
are not addresses: such a sender is kept with a reason, so the ticket is flagged and
nothing is ever sent to it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses

from core.inbound.charsets import decode_words
from core.inbound.sanitize import clean_line
from core.mail.addresses import is_addr_spec

_ADDR = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
SIMPLE_FROM_RE = re.compile(rf"(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) )?<({_ADDR})>|({_ADDR})")
"""``Name Name <local.part@domain.tld>``, ``<addr>`` or a bare address in letters, digits
and a few marks: the common From, which ``getaddresses`` reads as (the name as written, the
address as written)."""


def _addresses(value: str) -> list[tuple[str, str]]:
    """``getaddresses([value])``, answered without its parser for ``SIMPLE_FROM_RE``
    (the parser took as long as the rest of reading a short email's headers)."""
    simple = SIMPLE_FROM_RE.fullmatch(value)
    if simple is None:
        return getaddresses([value])
    name, routed, bare = simple.groups()
    return [(name or "", routed or bare)]


@dataclass(frozen=True)
class Sender:
    addr: str
    """Lower-cased; the text as written (cleaned) when it is not a valid address."""
    name: str
    problem: str | None = None
    """None for a valid address; otherwise why the sender cannot be answered."""


def choose_sender(values: Iterable[str]) -> Sender:
    """The sender among the ``From`` header values (already decoded to text, 8-bit octets
    included): the first valid address of the first header holding one; else the first
    address-like text with the reason it is not an address."""
    first: Sender | None = None
    for value in values:
        for name, addr in _addresses(value):
            addr = clean_line(addr).lower()
            display = clean_line(decode_words(name))
            if is_addr_spec(addr):
                return Sender(addr, display)
            if first is None and (addr or display):
                shown = addr or display
                first = Sender(addr, display, f"the sender {shown!r} is not an email address")
    return first or Sender("", "", "no sender address (From) could be read")
