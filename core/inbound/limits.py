"""The bounds on the work one inbound message may cost, checked on the raw bytes before
the standard library builds a tree: every part is an object (160,000 tiny parts in 10 MB
once took 8.5 s and 290 MB) and every nesting level a recursion. A message past a bound is
quarantined with the reason; the other bounds (header characters decoded, HTML converted)
are applied while reading and noted on the message."""

from __future__ import annotations

import re

MAX_PARTS = 2_000
"""MIME parts (delimiter lines of the declared boundaries) one message may have."""
MAX_BOUNDARIES = 64
"""Distinct multipart boundaries: legitimate mail nests a handful of multiparts."""
MAX_EMBEDDED_MESSAGES = 200
"""``message/rfc822`` parts: the parser's cost grows with the square of their nesting."""
MAX_HEADER_CHARS = 16_384
"""Characters of one header value that are decoded (subject, sender, file name): past the
stored lengths, and a bound on the RFC 2047 words read."""
MAX_NESTED_MESSAGES = 8
"""Forwarded messages (``message/rfc822``) opened inside each other for evidence."""
BOUNDARY_RE = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))')
"""Run on the lower-cased bytes (the boundary values are then found case-folded, so they
are counted on the lower-cased bytes too)."""


def structure_problem(raw: bytes) -> str | None:
    """Why ``raw`` holds more structure than a message is allowed to, or None."""
    lowered = raw.lower()
    boundaries = {a or b for a, b in BOUNDARY_RE.findall(lowered)}
    if len(boundaries) > MAX_BOUNDARIES:
        return f"more than {MAX_BOUNDARIES} multipart boundaries (nested too deeply)"
    if lowered.count(b"message/rfc822") > MAX_EMBEDDED_MESSAGES:
        return f"more than {MAX_EMBEDDED_MESSAGES} embedded messages (message/rfc822)"
    parts = 0
    for boundary in boundaries:
        parts += lowered.count(b"\n--" + boundary)
        if parts > MAX_PARTS:
            return f"more than {MAX_PARTS} MIME parts"
    return None
