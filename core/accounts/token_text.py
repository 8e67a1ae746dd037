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

TAG_RE = re.compile(r"<(?:!--.*?(?:-->|\Z)|/?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>)", re.S)
"""HTML comments and tags, only real tag names (so ``<hf_...@host>`` message-ids stay)."""
INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small"
    "|span|strike|strong|sub|sup|time|tt|u|var|wbr"
)
INLINE_TAG_RE = re.compile(rf"<(?:!--.*?(?:-->|\Z)|/?(?:{INLINE})(?:\s[^<>]*)?/?>)", re.S | re.I)
"""Comments and inline tags join the letters around them; any other tag (``</p>``,
``<br>``, ``<td>``) separates them, as a browser shows it."""
ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
MARKUP_CHARS = "*`~"
MARKUP_RE = re.compile(
    r"(?=[ \t*`~_])(?:"
    r"(?<![ \t])[ \t]*+(?:[*`~]++|__++)[ \t]*+|(?<![ \t])[ \t]++_(?=[A-Za-z])|(?<=[A-Za-z])_[ \t]++"
    r")"
)
"""Emphasis and code marks (and the spaces html2text puts around them) between letters:
``hf_Qw **Er** Ty``, ``hf_QwE __rTy``. The leading lookahead (every match starts with one
of those characters) lets the engine skip other characters without trying each branch."""
INVISIBLE = "".join(
    map(chr, (0xAD, 0x34F, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), 0xFEFF))
) + "".join(map(chr, range(0x2060, 0x2065)))
"""Soft hyphen, zero-width and direction-control characters: invisible between letters."""
IGNORABLE_RE = re.compile(
    f"{TAG_RE.pattern}|{ENTITY_RE.pattern}|{MARKUP_RE.pattern}|[{INVISIBLE}]", re.S
)
"""What a reader does not see between two letters (an entity is replaced by its character)."""
FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
"""Full-width forms (``ｈｆ＿...``) read as their ASCII letters; same length, so offsets hold."""
IGNORED = frozenset(MARKUP_CHARS + INVISIBLE)
MARKUP_HINTS = (*MARKUP_CHARS, "__", " _", "_ ", "\t_", "_\t")
_SEEN = {**FULLWIDTH, **dict.fromkeys(map(ord, INVISIBLE))}
_SEEN_RE = re.compile(f"[\uff01-\uff5e{INVISIBLE}]")
_CLASSES = bytes(
    ord("a")
    if chr(b).isascii() and chr(b).isalpha()
    else ord("u")
    if chr(b) == "_"
    else ord("d")
    if chr(b).isascii() and (chr(b).isdigit() or chr(b) in "+/=-.@")
    else ord(" ")
    for b in range(256)
)
"""Each byte's class for the quick test: letter, underscore, base64-ish, other."""
TOKEN_LETTERS = 34
WITHHELD = "[withheld: too much markup around token-like text to check it for access tokens]"
_BARE_WORD = b" " + b"a" * TOKEN_LETTERS + b" "
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
            if token.startswith("<") and not INLINE_TAG_RE.fullmatch(token):
                self._piece(parts, " ", m.start(), m.end(), False, size)
                size += 1
            elif token.startswith("&"):
                char = html.unescape(token)
                literal = len(char) != 1
                value = token if literal else "" if char in IGNORED else char
                if value:
                    self._piece(parts, value, m.start(), m.end(), literal, size)
                    size += len(value)
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


def _as_seen(text: str) -> tuple[str, bool]:
    """``text`` roughly as a reader sees it, at C speed, each entity standing in as one
    letter (it may be one); and whether there were entities. A superset test for
    ``_Skeleton``, which reads the entities exactly."""
    seen = TAG_RE.sub(" ", INLINE_TAG_RE.sub("", text)) if "<" in text else text
    if any(mark in seen for mark in MARKUP_HINTS):
        seen = MARKUP_RE.sub("", seen)
    if not seen.isascii() and _SEEN_RE.search(seen):
        seen = seen.translate(_SEEN)
    if "&" in seen:
        seen, entities = ENTITY_RE.subn("a", seen)
        return seen, entities > 0
    return seen, False


def seen_text(text: str) -> str:
    """``text`` roughly as a reader sees it (markup set aside, each entity one letter): a
    superset reading, for checking where tokens could run across (``core.mail.outbox``)."""
    return _as_seen(text)[0]


def _may_hold_token(seen: str, entities: bool) -> bool:
    """A quick test that ``VARIANT_RE`` could match: a word of exactly 34 letters, or ``hf``
    followed (after at most two separators) by 34 letters with underscores between; with
    entities about (one may be the ``h`` or the ``_``), any 34 letters in a row."""
    data = seen.encode("utf-8", "surrogatepass")
    classes = b" " + data.translate(_CLASSES) + b" "
    if _BARE_WORD in classes:
        return True
    if entities and b"a" * 34 in classes.replace(b"u", b""):
        return True
    lowered = data.lower()
    at = lowered.find(b"hf")
    while at != -1:
        tail = classes[at + 3 : at + 3 + 3 + 2 * 34]
        start = next((i for i in range(3) if tail[i : i + 1] == b"a"), None)
        if start is not None:
            run = tail[start:]
            end = next((i for i, c in enumerate(run) if c not in b"au"), len(run))
            if run[:end].count(b"a") >= 34:
                return True
        at = lowered.find(b"hf", at + 2)
    return False


class TooMuchMarkup(ValueError):
    """Token-like text sits among more markup than is worth reading exactly (hostile input):
    the caller withholds the text instead of showing or storing it."""


WINDOW = 8_192
"""Long texts are read in windows this long (overlapping by ``OVERLAP``), each tested
quickly; only windows that may hold a token are read exactly."""
OVERLAP = 1_024
EDGE = 64
"""A find this close to a window's cut edge is left to the neighbouring window, which holds
it whole (a token with its markup up to ``OVERLAP - 2 * EDGE`` characters long)."""
MAX_EXACT_WINDOWS = 32
"""Exact readings of one long text before it counts as ``TooMuchMarkup``: the exact
reading costs Python work per tag, so a hostile message must not buy unbounded CPU."""


def _find_in(text: str) -> list[FoundToken]:
    seen, entities = _as_seen(text)
    if not _may_hold_token(seen, entities):
        return []
    if seen == text:
        return [_found(m, m.start(), m.end()) for m in VARIANT_RE.finditer(text)]
    skeleton = _Skeleton(text)
    return [
        _found(m, skeleton.origin(m.start(), end=False), skeleton.origin(m.end(), end=True))
        for m in VARIANT_RE.finditer(skeleton.text)
    ]


def find_tokens(text: str) -> list[FoundToken]:
    """Every token-like occurrence in ``text``, in order, non-overlapping. Text that holds
    no run of 34 letters once markup is set aside costs a few C-speed passes only; a long
    text is read window by window. Raises ``TooMuchMarkup`` (see there)."""
    if len(text) < TOKEN_LETTERS:
        return []
    if len(text) <= WINDOW + OVERLAP:
        return _find_in(text)
    found: list[FoundToken] = []
    exact = 0
    for start in range(0, len(text), WINDOW):
        window = text[start : start + WINDOW + OVERLAP]
        if not _may_hold_token(*_as_seen(window)):
            continue
        exact += 1
        if exact > MAX_EXACT_WINDOWS:
            raise TooMuchMarkup("too much markup around token-like text to read it exactly")
        last = start + WINDOW + OVERLAP >= len(text)
        for item in _find_in(window):
            if (not last and item.end > len(window) - EDGE) or (start and item.start < EDGE):
                continue  # maybe cut by the window's edge: a neighbour holds it whole
            item = FoundToken(item.start + start, item.end + start, item.token)
            if not found or item.start >= found[-1].end:
                found.append(item)
    return found


def _found(match: re.Match[str], start: int, end: int) -> FoundToken:
    letters = match.group("exact") or match.group("split") or match.group("sep") or ""
    letters = letters[3:] if match.group("exact") else letters
    letters = letters or match.group("bare")
    return FoundToken(start, end, "hf_" + letters.replace("_", ""))


def mask_found(text: str, mask: Callable[[FoundToken], str]) -> str:
    """``text`` with each found token's span replaced by ``mask(found)``; a text with
    ``TooMuchMarkup`` is withheld whole (``WITHHELD``)."""
    try:
        found = find_tokens(text)
    except TooMuchMarkup:
        return WITHHELD
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
