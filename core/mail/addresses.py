"""The RFC 5322 ``addr-spec`` (with RFC 6532's UTF-8), within SMTP's length limits: the
only shape of address this system reads as a sender or sends anything to."""

from __future__ import annotations

import re

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
