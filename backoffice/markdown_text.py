"""Mail-controlled text inside Streamlit elements that render Markdown (titles, captions,
alerts, expander and widget labels), shown as exactly its characters.

Two things turn text into markup there. Markdown syntax: every ASCII punctuation character
is backslash-escaped, which CommonMark defines as the literal character, so
``![x](http://t/p.png)`` loads no image, ``[a](b)`` forms no link and Streamlit's
``:red[...]``, ``:material/...:`` and ``$...$`` do nothing. And GFM's autolinks, which
remark-gfm finds with regular expressions in the already-decoded text (escapes do not stop
them): an invisible WORD JOINER (U+2060) goes before every ``:`` and ``.`` and after every
``@``, so no ``http://``, ``www.`` or ``name@domain`` is left for them to match. Line breaks
become spaces, so a one-line label stays one line. Text meant to be copied (addresses,
bodies, keys) is also shown with ``st.text``/``st.code``, which need none of this."""

from __future__ import annotations

import re
import string

WORD_JOINER = "\u2060"
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
_LINK_HINGES = re.compile(r"\\([:.])|\\@")


def _unhinge(match: re.Match[str]) -> str:
    return WORD_JOINER + match.group(0) if match.group(1) else match.group(0) + WORD_JOINER


def literal(text: object) -> str:
    """``text`` made safe to hand to Streamlit's Markdown: it shows exactly these
    characters (plus invisible word joiners), with no link, image or directive."""
    escaped = _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
    return _LINK_HINGES.sub(_unhinge, escaped)
