"""Mail-controlled text inside Streamlit elements that render Markdown (titles, captions,
alerts, expander and widget labels): every ASCII punctuation character is backslash-escaped,
which CommonMark defines as the literal character. So ``![x](http://t/p.png)`` cannot load
an image, ``[a](b)`` or ``http://x.y`` cannot become a link (GFM autolinks need the literal
``:``/``.``), and Streamlit's ``:red[...]``, ``:material/...:`` and ``$...$`` do nothing.
Line breaks become spaces: a one-line label stays one line."""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def literal(text: object) -> str:
    """``text`` escaped so that Streamlit's Markdown shows exactly these characters."""
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
