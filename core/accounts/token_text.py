"""Finding access tokens in text a person wrote or pasted, in the forms a paste takes:
the exact token; another case or separator (``HF_``, ``hf-``, ``HF:``); the 34 letters
without the prefix; split by markup (``<b>``, ``<span></span>``, comments, the ``**`` or
``_`` html2text leaves), HTML entities, invisible characters or full-width letters.

``find_tokens`` returns each occurrence's span in the text as given and the token it
recovers (``hf_`` + the 34 letters, for hashing against the account's tokens: a case-mangled
paste will not verify, but it is still masked). Masking replaces the whole span, markup
included, so no fragment of the letters survives."""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_LETTERS_RE = "[A-Za-z]"
IGNORABLE_RE = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|[*`~\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]",
    re.S,
)
"""What a reader does not see between two letters: HTML comments and tags (only real tag
names, so ``<hf_...@host>`` message-ids are kept), entities (replaced by their character),
markdown emphasis, and zero-width or direction-control characters."""
FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
"""Full-width forms (``ｈｆ＿...``) read as their ASCII letters; same length, so offsets hold."""
VARIANT_RE = re.compile(
    r"(?P<exact>hf_[A-Za-z]{34})"
    r"|(?<![A-Za-z0-9])[hH][fF](?:[_\-\u2010-\u2015.:]\s?|\s)?"
    r"(?P<split>(?:[A-Za-z]_?){33}[A-Za-z])(?![A-Za-z0-9])"
    r"|[hH][fF][_\-\u2010-\u2015.:]\s?(?P<sep>(?:[A-Za-z]_?){33}[A-Za-z])(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9+/=_\-.@])(?P<bare>[A-Za-z]{34})(?![A-Za-z0-9+/=_\-@])"
)
"""Tried in order: the exact token anywhere (as before); a case- or separator-variant
prefix (markdown ``_`` between letters allowed) as a word of its own, or right after any
text when a separator follows ``hf``; the 34 letters alone as a whole word (not inside
base64 or an address, whose runs of letters must not be mistaken for one)."""


@dataclass(frozen=True)
class FoundToken:
    start: int
    end: int
    """The span in the text as given (markup inside it included)."""
    token: str
    """``hf_`` + the 34 letters as written: the token, if the paste kept its case."""

    @property
    def last4(self) -> str:
        return self.token[-4:]


class _Skeleton:
    """The text as a reader sees it, with a map back to the offsets of the text given."""

    def __init__(self, text: str) -> None:
        parts: list[str] = []
        self.starts: list[int] = []  # skeleton offset where each piece begins
        self.origins: list[tuple[int, int, bool]] = []  # (start, end, literal) in the text
        at = 0
        size = 0
        for m in IGNORABLE_RE.finditer(text):
            if m.start() > at:
                self._piece(parts, text[at : m.start()], at, m.start(), True, size)
                size += m.start() - at
            token = m.group(0)
            if token.startswith("&"):
                char = html.unescape(token)
                if len(char) == 1:
                    self._piece(parts, char, m.start(), m.end(), False, size)
                    size += 1
            at = m.end()
        if at < len(text):
            self._piece(parts, text[at:], at, len(text), True, size)
        self.text = "".join(parts).translate(FULLWIDTH)

    def _piece(
        self, parts: list[str], value: str, start: int, end: int, literal: bool, size: int
    ) -> None:
        parts.append(value)
        self.starts.append(size)
        self.origins.append((start, end, literal))

    def origin(self, index: int, *, end: bool) -> int:
        """Offset in the given text of skeleton ``index`` (a span's start, or its end)."""
        i = bisect_right(self.starts, index - 1 if end else index) - 1
        start, stop, literal = self.origins[i]
        if not literal:
            return stop if end else start
        return start + (index - self.starts[i])


def _needs_skeleton(text: str) -> bool:
    return IGNORABLE_RE.search(text) is not None or any(
        0xFF01 <= ord(c) <= 0xFF5E for c in text if ord(c) > 0x7F
    )


def find_tokens(text: str) -> list[FoundToken]:
    """Every token-like occurrence in ``text``, in order, non-overlapping."""
    if not text:
        return []
    if not _needs_skeleton(text):
        return [_found(m, m.start(), m.end()) for m in VARIANT_RE.finditer(text)]
    skeleton = _Skeleton(text)
    return [
        _found(m, skeleton.origin(m.start(), end=False), skeleton.origin(m.end(), end=True))
        for m in VARIANT_RE.finditer(skeleton.text)
    ]


def _found(match: re.Match[str], start: int, end: int) -> FoundToken:
    letters = match.group("exact") or match.group("split") or match.group("sep") or ""
    letters = letters[3:] if match.group("exact") else letters
    letters = letters or match.group("bare")
    return FoundToken(start, end, "hf_" + letters.replace("_", ""))


def mask_found(text: str, mask: Callable[[FoundToken], str]) -> str:
    """``text`` with each found token's span replaced by ``mask(found)``."""
    found = find_tokens(text)
    if not found:
        return text
    out: list[str] = []
    at = 0
    for item in found:
        out.append(text[at : item.start])
        out.append(mask(item))
        at = item.end
    out.append(text[at:])
    return "".join(out)
