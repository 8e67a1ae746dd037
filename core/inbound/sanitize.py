"""Mail-controlled text made safe to store and to quote: a one-line value (subject, display
name, file name, address) holds no control character at all, so an email that quotes it
can always be built; a body keeps its line breaks and tabs but no other control
character (PostgreSQL refuses NUL; the rest only ever hides or spoofs text)."""

from __future__ import annotations

import re

LINE_CONTROLS_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
BODY_CONTROLS_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def clean_line(value: str) -> str:
    """One line: every run of control characters (line breaks included) becomes one space,
    whitespace is collapsed and the ends trimmed."""
    return " ".join(LINE_CONTROLS_RE.sub(" ", value).split())


def clean_body(value: str) -> str:
    """A body: CRLF and CR become LF, form feeds a line break, other control characters
    are dropped; tabs stay."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\x0c" in value:
        value = value.replace("\x0c", "\n")
    return BODY_CONTROLS_RE.sub("", value)
