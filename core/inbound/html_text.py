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
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ol",
        "ul",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "hr",
        "section",
        "article",
        "header",
        "footer",
    ]
)
SKIPPED_TAGS = ("script", "style", "head", "title")


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


def strip_tags(text: str) -> str:
    """Tags removed in one pass (``str.find`` only, no backtracking): block tags become
    line breaks, script/style/head contents and comments are dropped, entities decoded."""
    out: list[str] = []
    pos, end = 0, len(text)
    lowered = text.lower()
    while pos < end:
        start = text.find("<", pos)
        if start < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        if text.startswith("<!--", start):
            close = text.find("-->", start + 4)
            pos = end if close < 0 else close + 3
            continue
        close = text.find(">", start + 1)
        if close < 0:
            break
        name = lowered[start + 1 : close].lstrip("/").split(None, 1)
        tag = name[0].rstrip("/") if name else ""
        pos = close + 1
        if tag in SKIPPED_TAGS and not text.startswith("</", start):
            finish = lowered.find(f"</{tag}", pos)
            pos = end if finish < 0 else finish
        elif tag in BLOCK_TAGS:
            out.append("\n")
    lines = (" ".join(line.split()) for line in html.unescape("".join(out)).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


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
