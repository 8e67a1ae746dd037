"""HTML bodies as text, in bounded time and memory. ``html2text`` renders an ordinary body
well (links, emphasis, lists) but its cost grows with the input and with the square of
list nesting (96 KB of unclosed ``<ol><li>`` once took 96 s and 791 MB), so HTML above
``MAX_CONVERTED_HTML`` or nested deeper than ``MAX_NESTING`` is reduced by a linear tag
strip instead, and the caller is told why."""

from __future__ import annotations

import html
import re

import html2text

MAX_CONVERTED_HTML = 256 * 1024
"""Characters of HTML handed to html2text (about 0.35 s on this project's machine)."""
MAX_NESTING = 16
"""Open lists and quotes html2text may indent; deeper input is stripped instead."""
NESTING_TAG_RE = re.compile(r"<(/?)(ol|ul|dl|blockquote)\b", re.IGNORECASE)
STRIP_CHUNK = 64 * 1024
COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
SKIPPED_RE = re.compile(r"<(script|style|head|title)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)
BLOCK_TAG_RE = re.compile(
    r"</?(?:p|div|br|li|tr|td|th|h[1-6]|ol|ul|dl|dt|dd|blockquote|pre|table|hr|section|"
    r"article|header|footer)\b[^<>]*>?",
    re.IGNORECASE,
)
TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>?")
SPACES_RE = re.compile(r"[ \t\r\f\v\xa0]+")
LINE_EDGES_RE = re.compile(r" ?\n ?")
BLANK_LINES_RE = re.compile(r"\n{3,}")


def _nesting(text: str) -> int:
    """The deepest nesting of list and quote tags (unclosed ones count as open; items do
    not nest, so ``<li>`` is not counted)."""
    depth = deepest = 0
    for match in NESTING_TAG_RE.finditer(text):
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    break
    return deepest


def _converted(text: str) -> str:
    """html2text, unwrapped so that keys and tokens stay on one line."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    return converter.handle(text)


def _strip_chunk(text: str) -> str:
    text = COMMENT_RE.sub("", text)
    text = SKIPPED_RE.sub("", text)
    text = BLOCK_TAG_RE.sub("\n", text)
    text = TAG_RE.sub("", text)
    text = html.unescape(text)
    text = SPACES_RE.sub(" ", text)
    return LINE_EDGES_RE.sub("\n", text)


def strip_tags(text: str) -> str:
    """Tags removed by regular expressions that cannot backtrack far (each match ends at
    the first closer or at the next ``<``): block tags become line breaks, comments and
    script/style/head contents are dropped, entities decoded, blank runs collapsed. Read
    in chunks of ``STRIP_CHUNK`` cut before a ``<``, so that millions of tiny tags cost
    linear time and bounded memory (a comment or script crossing a cut may show as text)."""
    pieces = []
    start = 0
    while start < len(text):
        end = start + STRIP_CHUNK
        if end < len(text):
            cut = text.rfind("<", start + 1, end)
            end = cut if cut > start else end
        pieces.append(_strip_chunk(text[start:end]))
        start = end
    return BLANK_LINES_RE.sub("\n\n", "".join(pieces)).strip()


def html_to_text(text: str) -> tuple[str, str | None]:
    """``text`` (HTML) as plain text, and None or the reason the plain tag strip was used
    instead of the full conversion."""
    if len(text) > MAX_CONVERTED_HTML:
        return strip_tags(text), (
            f"HTML of {len(text)} characters read by a plain tag strip "
            f"(over the {MAX_CONVERTED_HTML} converted in full)"
        )
    if _nesting(text) > MAX_NESTING:
        return strip_tags(text), (
            f"HTML nested over {MAX_NESTING} lists or quotes deep read by a plain tag strip"
        )
    return _converted(text), None
