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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

TAG_RE = re.compile(r"<(?:!--.*?(?:-->|\Z)|/?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>)", re.S)
"""HTML comments and tags, only real tag names (so ``<hf_...@host>`` message-ids stay)."""
INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small"
    "|span|strike|strong|sub|sup|time|tt|u|var|wbr"
)
_INLINE_FIRST = "".join(sorted({name[0] for name in INLINE.split("|")}))
INLINE_TAG_RE = re.compile(
    rf"<(?:!--.*?(?:-->|\Z)|(?=/?[{_INLINE_FIRST}])/?(?:{INLINE})(?:\s[^<>]*)?/?>)", re.S | re.I
)
"""Comments and inline tags join the letters around them; any other tag (``</p>``,
``<br>``, ``<td>``) separates them, as a browser shows it. The look-ahead on the first
letter turns other tags away before the names are tried one by one (5x faster on
tag-dense text)."""
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
    f"(?=[<&{MARKUP_CHARS} \t_{INVISIBLE}])"
    f"(?:{TAG_RE.pattern}|{ENTITY_RE.pattern}|{MARKUP_RE.pattern}|[{INVISIBLE}])",
    re.S,
)
"""What a reader does not see between two letters (an entity is replaced by its character).
The leading look-ahead (the first characters the four branches can start with) turns most
characters away with one test instead of one per branch."""
FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
"""Full-width forms (``ｈｆ＿...``) read as their ASCII letters; same length, so offsets hold."""
IGNORED = frozenset(MARKUP_CHARS + INVISIBLE)
UNDERSCORE_HINTS = ("__", " _", "_ ", "\t_", "_\t")
MARKUP_HINTS = (*MARKUP_CHARS, *UNDERSCORE_HINTS)
_SEEN = {**FULLWIDTH, **dict.fromkeys(map(ord, INVISIBLE))}
_SEEN_RE = re.compile(f"[\uff01-\uff5e{INVISIBLE}]")
_CLASSES = bytes(
    ord("a")
    if chr(b).isascii() and chr(b).isalpha()
    else ord("u")
    if chr(b) == "_"
    else ord("p")
    if chr(b) == "."
    else ord("d")
    if chr(b).isascii() and (chr(b).isdigit() or chr(b) in "+/=-@")
    else ord(" ")
    for b in range(256)
)
"""Each byte's class for the quick test: letter, underscore, full stop, base64-ish, other."""
_LOWERED = bytes(
    b + 32
    if 65 <= b <= 90
    else b
    if 97 <= b <= 122 or b == ord("_")
    else ord("0")
    if chr(b) in "0123456789+/=-.@"
    else ord(" ")
    for b in range(256)
)
"""Each byte for the ``hf`` test: a letter lower-cased, the underscore, ``0`` for the
base64-ish rest, a space for anything else."""
_HF_RUN_RE = re.compile(rb"hf[^a-z]{0,2}(?:[a-z]_*){34}")
"""``hf``, at most two separators, then 34 letters with underscores between (a literal
prefix, so the engine skips to each ``hf`` at C speed)."""
TOKEN_LETTERS = 34
WITHHELD = "[withheld: too much markup around token-like text to check it for access tokens]"
_BARE_WORD = b" " + b"a" * TOKEN_LETTERS + b" "
_BARE_SENTENCE_END = b" " + b"a" * TOKEN_LETTERS + b"p"
"""A bare word may end a sentence: ``VARIANT_RE`` takes it before a full stop, not after."""
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


_SEAM = "<\ue001"
"""Stands where an inline tag or comment was, until the other tags are read: its ``<``
keeps a tag from forming across the gap (``<a x="..<!-- -->..>``), as a single
left-to-right reading (``_Skeleton``) would not let it."""


def _without_tags(text: str) -> str:
    """Inline tags and comments removed, other tags a space, read as ``_Skeleton`` reads
    them (two C-speed passes)."""
    if "<" not in text:
        return text
    if _SEAM[1] in text:  # a private-use character: any other non-letter reads the same
        text = text.replace(_SEAM[1], "\ufffd")
    return TAG_RE.sub(" ", INLINE_TAG_RE.sub(_SEAM, text)).replace(_SEAM, "")


def _has_markup(text: str) -> bool:
    """Whether ``MARKUP_RE`` may have something to remove: any of ``MARKUP_HINTS`` in
    ``text`` (a few substring searches; those with an underscore only if it has one)."""
    if "*" in text or "`" in text or "~" in text:
        return True
    return "_" in text and any(mark in text for mark in UNDERSCORE_HINTS)


def _as_seen(text: str, *, tagless: str | None = None, markup: bool | None = None) -> str:
    """``text`` roughly as a reader sees it, at C speed, each entity standing in as one
    letter (it may be one): what ``_Skeleton`` reads, with letters joined at least where
    it joins them. ``tagless``: ``_without_tags(text)``, and ``markup``:
    ``_has_markup(tagless)``, when the caller has them."""
    seen = _without_tags(text) if tagless is None else tagless
    if _has_markup(seen) if markup is None else markup:
        seen = MARKUP_RE.sub("", seen)
    if not seen.isascii() and _SEEN_RE.search(seen):
        seen = seen.translate(_SEEN)
    if "&" in seen:
        seen = ENTITY_RE.sub("a", seen)
    return seen


def seen_text(text: str) -> str:
    """``text`` roughly as a reader sees it (markup set aside, each entity one letter): a
    superset reading, for checking where tokens could run across (``core.mail.outbox``)."""
    return _as_seen(text)


def _may_hold_token(seen: str, *, loose: bool) -> bool:
    """A quick test that ``VARIANT_RE`` could match: a word of exactly 34 letters, or ``hf``
    followed (after at most two separators) by 34 letters with underscores between.
    ``loose`` (``seen`` is a reading that may join more than ``_Skeleton``: markup, tags or
    entities were set aside): any 34 letters in a row, underscores aside. A few C-speed
    passes, whatever the text holds."""
    data = seen.encode("utf-8", "surrogatepass")
    classes = b" " + data.translate(_CLASSES) + b" "
    if loose:
        return b"a" * TOKEN_LETTERS in classes.replace(b"u", b"")
    if _BARE_WORD in classes or _BARE_SENTENCE_END in classes:
        return True
    return _HF_RUN_RE.search(data.translate(_LOWERED)) is not None


_JOINS = bytes(
    ord("a")
    if chr(b).isascii() and chr(b).isalpha()
    else ord("m")
    if chr(b) in MARKUP_CHARS + "_"
    else ord("s")
    if chr(b) in " \t"
    else ord(" ")
    for b in range(256)
)
"""Each byte's class for ``_no_token_across_markup``: letter, markup, blank, other."""
MAX_JOIN_ROUNDS = 8


def _no_token_across_markup(tagless: str) -> bool:
    """True when ``tagless`` (plain ASCII, no entities) could not hold 34 letters in a row
    even if every markup character and every blank run touching one were set aside: a
    superset of what ``MARKUP_RE`` joins, so the costlier exact removal can be skipped.
    False when unsure (other characters, or blank runs too long to join quickly)."""
    if "&" in tagless or not tagless.isascii():
        return False
    classes = tagless.encode("ascii").translate(_JOINS)
    for _ in range(MAX_JOIN_ROUNDS):
        if b"sm" not in classes and b"ms" not in classes:
            break
        classes = classes.replace(b"sm", b"mm").replace(b"ms", b"mm")
    if b"sm" in classes or b"ms" in classes:
        return False
    return b"a" * TOKEN_LETTERS not in classes.replace(b"m", b"")


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


def _candidates(text: str) -> tuple[bool, bool, bool]:
    """Whether ``text`` may hold a token as a reader sees it; whether it may hold one as
    written (inside a tag's attribute or a comment, which a reader does not see, or glued
    to markup or an entity that a reader joins to it); and whether it reads as written."""
    tagless = _without_tags(text)
    markup = _has_markup(tagless)
    if markup and _no_token_across_markup(tagless):
        return False, tagless != text and _may_hold_token(text, loose=False), False
    seen = _as_seen(text, tagless=tagless, markup=markup)
    plain = seen == text
    in_seen = _may_hold_token(seen, loose=not plain)
    return in_seen, not plain and _may_hold_token(text, loose=False), plain


def _find_in(text: str, in_seen: bool, in_literal: bool, plain: bool) -> list[FoundToken]:
    found: list[FoundToken] = []
    if in_seen:
        if plain:
            found = [_found(m, m.start(), m.end()) for m in _variant_matches(text)]
        else:
            skeleton = _Skeleton(text)
            found = [
                _found(m, skeleton.origin(m.start(), end=False), skeleton.origin(m.end(), end=True))
                for m in _variant_matches(skeleton.text)
            ]
    if in_literal:
        found += [_found(m, m.start(), m.end()) for m in _variant_matches(text)]
        found = _merged(found)
    return found


_RUN_CLASSES = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalpha() or chr(b) == "_") else ord(" ")
    for b in range(256)
)
"""Each byte for ``_variant_matches``: ``a`` for a letter or underscore, else a space."""
_LETTER_RUN = b"a" * TOKEN_LETTERS
PREFIX_REACH = 4
"""How far before its letters a ``VARIANT_RE`` match may start: ``hf``, a separator and a
blank."""


def _variant_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``VARIANT_RE.finditer(text)`` finds, in order. Every match holds its 34 letters
    (underscores between) in a run of letters and underscores at least that long, starting
    at most ``PREFIX_REACH`` characters before that run; so the pattern, which tries its
    branches at every character, is only tried there, each search ending one character past
    the run (what its look-aheads read). Runs are found by a byte-class pass at C speed
    (non-ASCII characters read as ``?``, one for one, so offsets hold)."""
    classes = text.encode("ascii", "replace").translate(_RUN_CLASSES)
    pos = 0
    at = classes.find(_LETTER_RUN)
    while at != -1:
        start = classes.rfind(b" ", 0, at) + 1
        end = classes.find(b" ", at)
        end = len(classes) if end == -1 else end
        search_from = max(pos, start - PREFIX_REACH)
        while search_from < end:
            match = VARIANT_RE.search(text, search_from, end + 1)
            if match is None:
                break
            yield match
            pos = search_from = match.end()
        at = classes.find(_LETTER_RUN, end)


def _merged(found: list[FoundToken]) -> list[FoundToken]:
    """Overlapping finds (one token read both literally and as seen) as one span."""
    merged: list[FoundToken] = []
    for item in sorted(found, key=lambda f: (f.start, -f.end)):
        if merged and item.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = FoundToken(last.start, max(last.end, item.end), last.token)
        else:
            merged.append(item)
    return merged


def find_tokens(text: str) -> list[FoundToken]:
    """Every token-like occurrence in ``text``, in order, non-overlapping: as a reader sees
    it, and as written (a token in a tag's attribute or a comment is found too). Text that
    holds no run of 34 letters costs a few C-speed passes only; a long text is read window
    by window. Raises ``TooMuchMarkup`` (see there)."""
    if len(text) < TOKEN_LETTERS:
        return []
    if len(text) <= WINDOW + OVERLAP:
        in_seen, in_literal, plain = _candidates(text)
        return _find_in(text, in_seen, in_literal, plain) if in_seen or in_literal else []
    found: list[FoundToken] = []
    exact = 0
    for start in range(0, len(text), WINDOW):
        window = text[start : start + WINDOW + OVERLAP]
        in_seen, in_literal, plain = _candidates(window)
        if not in_seen and not in_literal:
            continue
        exact += 1
        if exact > MAX_EXACT_WINDOWS:
            raise TooMuchMarkup("too much markup around token-like text to read it exactly")
        last = start + WINDOW + OVERLAP >= len(text)
        for item in _find_in(window, in_seen, in_literal, plain):
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
