"""Sender authenticity of one inbound message: the SPF, DKIM and DMARC results a trusted
receiver stamped on it (``Authentication-Results``, RFC 8601), read with ``authres``.

Anyone can write an ``Authentication-Results`` header, so only those whose authserv-id is
in ``trusted_authserv_ids`` count, and only the topmost run of them: our receiver adds its
headers above everything the sender wrote, so the first trusted header from the top is
ours, the trusted headers right below it are too (one per filter: SPF, DKIM, DMARC), and an
untrusted header after them marks where mail from further away begins. Per method the
topmost result wins, so a forged header below ours cannot overturn what ours said. Pure
(no database): ``prepare`` computes it in the parse process."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import authres

from core.verification.sender_authenticity import ABSENT, UNKNOWN, SenderAuthenticity

METHODS = ("spf", "dkim", "dmarc")


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
    dkim: list[str] = []
    authserv_id = None
    for value in headers:
        parsed = _parse(value)
        if parsed is None:
            continue
        if parsed.authserv_id.lower() not in trusted:
            if authserv_id is not None:
                break  # below our receiver's run: further away, maybe the sender's own
            continue  # added above ours, by a hop after our receiver
        authserv_id = authserv_id or parsed.authserv_id
        for result in parsed.results:
            method, outcome = str(result.method).lower(), str(result.result).lower()
            if method == "dkim":
                dkim.append(outcome)
            elif method in METHODS:
                found.setdefault(method, outcome)
    if dkim:
        found["dkim"] = "pass" if "pass" in dkim else dkim[0]
    return SenderAuthenticity(
        found.get("spf", ABSENT), found.get("dkim", ABSENT), found.get("dmarc", ABSENT), authserv_id
    )


def _parse(value: str) -> authres.AuthenticationResultsHeader | None:
    try:
        return authres.AuthenticationResultsHeader.parse_value(value)
    except Exception:  # authres raises its own errors and, on odd input, plain ones
        return None
