"""Reading a ticket number typed or linked by a person (``123`` or ``#123``)."""

from __future__ import annotations

import re

MAX_TICKET_NUMBER = 2**31 - 1
"""Ticket ids are 32-bit integers on every database."""
_NUMBER = re.compile(r"#?([0-9]{1,10})", re.ASCII)


def parse_ticket_number(raw: object) -> int | None:
    """The ticket number in ``raw``, or None for anything else (``²``, 25 digits, ``-1``):
    a query parameter is untrusted input and must never reach the database unchecked."""
    if not isinstance(raw, str):
        return None
    match = _NUMBER.fullmatch(raw.strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if 1 <= number <= MAX_TICKET_NUMBER else None
