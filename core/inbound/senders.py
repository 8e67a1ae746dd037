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

_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\u0080-\U0010ffff]"
_DOT_ATOM = f"{_ATEXT}+(?:\\.{_ATEXT}+)*"
_QUOTED = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\u0080-\U0010ffff]|\\\\[\\x20-\\x7e])*"'
_DOMAIN_LITERAL = "\\[[\\x21-\\x5a\\x5e-\\x7e]*\\]"
ADDR_SPEC_RE = re.compile(
    f"(?P<local>{_DOT_ATOM}|{_QUOTED})@(?P<domain>{_DOT_ATOM}|{_DOMAIN_LITERAL})"
)
MAX_ADDRESS = 254
MAX_LOCAL = 64
MAX_LABEL = 63


def is_addr_spec(value: str) -> bool:
    """``value`` is exactly one ``local@domain`` address within the SMTP length limits."""
    match = ADDR_SPEC_RE.fullmatch(value)
    if match is None or len(value.encode()) > MAX_ADDRESS:
        return False
    if len(match.group("local").encode()) > MAX_LOCAL:
        return False
    domain = match.group("domain")
    return domain.startswith("[") or all(len(label) <= MAX_LABEL for label in domain.split("."))


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
        for name, addr in getaddresses([value]):
            addr = clean_line(addr).lower()
            display = clean_line(decode_words(name))
            if is_addr_spec(addr):
                return Sender(addr, display)
            if first is None and (addr or display):
                shown = addr or display
                first = Sender(addr, display, f"the sender {shown!r} is not an email address")
    return first or Sender("", "", "no sender address (From) could be read")
