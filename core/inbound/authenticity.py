"""Sender authenticity of one inbound message: the SPF, DKIM and DMARC results a trusted
receiver stamped on it (``Authentication-Results``, RFC 8601), read with ``authres``.

Anyone can write an ``Authentication-Results`` header, so only those whose authserv-id is
in ``trusted_authserv_ids`` count, and only the topmost run of them: our receiver adds its
headers above everything the sender wrote, so the first trusted header from the top is
ours, the trusted headers right below it are too (one per filter: SPF, DKIM, DMARC), and an
untrusted header after them marks where mail from further away begins. Each method is read
from the topmost header that reports it, so a forged header below ours cannot overturn or
add to what ours said (RFC 8601 section 5 asks the receiver to remove look-alikes of its
own id that arrive from outside: if ours never reports a method, one below could). Pure
(no database): ``prepare`` computes it in the parse process."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import authres

from core.verification.sender_authenticity import ABSENT, UNKNOWN, SenderAuthenticity

METHODS = ("spf", "dkim", "dmarc")
AUTHSERV_ID_RE = re.compile(r'\s*(?:\([^()]*\)\s*)*"?([^\s;()"]+)')
"""The first word after any leading comments; a quoted id with spaces does not match ours."""


def trusted_ids(setting: str) -> frozenset[str]:
    """``trusted_authserv_ids`` (a comma list) as a set of lower-cased ids."""
    return frozenset(s.strip().lower() for s in setting.split(",") if s.strip())


def sender_authenticity(headers: Sequence[str], trusted: Iterable[str]) -> SenderAuthenticity:
    """The results in ``headers`` (the ``Authentication-Results`` values, topmost first)
    from the trusted ids; never raises for a malformed header (it does not count)."""
    trusted = frozenset(trusted)
    if not trusted:
        return SenderAuthenticity(UNKNOWN, UNKNOWN, UNKNOWN, None)
    found: dict[str, str] = {}
    authserv_id = None
    for value in headers:
        parsed = _parse(value) if _authserv_id(value) in trusted else None
        if parsed is None or parsed.authserv_id.lower() not in trusted:
            if authserv_id is not None:
                break  # below our receiver's run: further away, maybe the sender's own
            continue  # added above ours, by a hop after our receiver
        authserv_id = authserv_id or parsed.authserv_id
        here: dict[str, list[str]] = {}
        for result in parsed.results:
            method = str(result.method).lower()
            if method in METHODS and method not in found:
                here.setdefault(method, []).append(str(result.result).lower()[:32])
        for method, outcomes in here.items():  # one result per method, a DKIM pass of any
            found[method] = "pass" if "pass" in outcomes else outcomes[0]  # signature wins
    return SenderAuthenticity(
        found.get("spf", ABSENT), found.get("dkim", ABSENT), found.get("dmarc", ABSENT), authserv_id
    )


def _authserv_id(value: str) -> str | None:
    """The header's authserv-id, lower-cased, read cheaply: ``authres`` takes about a
    millisecond per header, so only trusted-looking ones are handed to it."""
    found = AUTHSERV_ID_RE.match(value)
    return found.group(1).lower() if found else None


def _parse(value: str) -> authres.AuthenticationResultsHeader | None:
    try:
        return authres.AuthenticationResultsHeader.parse_value(value)
    except Exception:  # authres raises its own errors and, on odd input, plain ones
        return None
