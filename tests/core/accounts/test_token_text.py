"""Near-miss tokens shown to staff are masked (issue #10 item 3): whatever a user could paste
(another case, another separator, no prefix, markup or invisible characters between the
letters) is found, masked whole, and recovered for hashing; text that only looks busy
(keys, signatures, message-ids, base64, prose about "HF") is left alone. A word of
exactly 34 letters is masked on purpose: hiding a rare word beats showing a token."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest

from core.accounts import token_text
from core.accounts.tokens import hash_token, redact_tokens, tokens_in

TOKEN = "hf_" + "gWopAsDfGhJkLzXcVbNmQwErTyUiOpAsDf"
BODY = TOKEN[3:]

VARIANTS = {
    "exact": TOKEN,
    "bold-inside (html2text)": f"hf_gWop**{BODY[4:20]}**{BODY[20:]}",
    "bold-inside with spaces": f"hf_gWop **{BODY[4:20]}** {BODY[20:]}",
    "italic underscores": f"hf_gWop __{BODY[4:]}",
    "html tag inside": f"hf_gWop<b>{BODY[4:20]}</b>{BODY[20:]}",
    "html comment inside": f"hf_gW<!-- -->{BODY[2:]}",
    "inside an html comment": f"<!-- {TOKEN} -->",
    "in a link's address": f'<a href="https://hf.co/?t={TOKEN}">here</a>',
    "entity prefix": f"&#104;&#102;&#95;{BODY}",
    "HF_ prefix": "HF_" + BODY,
    "Hf_ prefix": "Hf_" + BODY,
    "hf- prefix": "hf-" + BODY,
    "hf. prefix": "hf." + BODY,
    "hf: prefix": "hf: " + BODY,
    "hf space": "hf " + BODY,
    "hf no separator": "hf" + BODY,
    "no prefix": BODY,
    "zero-width space": f"hf_gWop\u200b{BODY[4:]}",
    "soft hyphen": f"hf_gWop\u00ad{BODY[4:]}",
    "full-width": "".join(chr(ord(c) + 0xFEE0) for c in TOKEN),
    "in backticks": f"`{TOKEN}`",
    "in a message-id": f"<{TOKEN}@mail.example>",
    "glued to a word": f"token:{TOKEN}.",
}
CASE_LOST = {"all uppercase": TOKEN.upper(), "all lowercase letters": BODY.lower()}


@pytest.mark.parametrize("text", list(VARIANTS.values()), ids=list(VARIANTS))
def test_a_pasted_variant_is_masked_and_recovered(text):
    shown = redact_tokens(f"Here it is: {text} -- thanks")
    assert "hf_…AsDf" in shown and shown.endswith(" -- thanks")
    assert "gWop" not in shown and BODY[4:20] not in shown and "<b>" not in shown
    (found,) = tokens_in(text)
    assert hash_token(found.token) == hash_token(TOKEN)


@pytest.mark.parametrize("text", list(CASE_LOST.values()), ids=list(CASE_LOST))
def test_a_variant_whose_case_is_lost_is_masked_though_it_cannot_verify(text):
    shown = redact_tokens(f"token {text}")
    assert BODY.lower()[:30] not in shown.lower()
    (found,) = tokens_in(text)
    assert found.token.lower() == TOKEN.lower()


KEY_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + hashlib.sha512(b"k").digest()).decode()
LOOKALIKES = {
    "ssh key": f"ssh-ed25519 {KEY_BLOB} alice@laptop",
    "signature": "-----BEGIN SSH SIGNATURE-----\n"
    + base64.b64encode(hashlib.sha512(b"s").digest() * 4).decode()
    + "\n-----END SSH SIGNATURE-----",
    "fingerprint": "SHA256:njr3UvIfVWytkK3L+3F5drP+MFNxsT/zKos/WsvRv+Y",
    "gmail message-id": "<CAKxYz1Fq3-mZ+W9dLk4vQeZ_abc123def456@mail.gmail.com>",
    "prose about HF": "HF is a great place and we love using the hub every single day, thanks HF",
    "long word": "Rindfleischetikettierungsueberwachungsaufgabenuebertragungsgesetz, 63 letters",
    "markdown": "This is **really** important, __please__ help me _now_ with my account",
    "url": "https://huggingface.co/settings/tokens?utm_source=email&utm_medium=abcdef",
    "almost a token": "hf_" + BODY[:33],
}


@pytest.mark.parametrize("text", list(LOOKALIKES.values()), ids=list(LOOKALIKES))
def test_text_that_only_looks_busy_is_left_alone(text):
    assert redact_tokens(text) == text and tokens_in(text) == []


def test_a_token_written_inside_a_tag_of_a_long_text_is_found_where_it_is():
    """A reader of the page does not see an attribute or a comment, but the stored bytes
    hold it: long texts (read window by window) find it too, at its offset."""
    page = "<p>hello</p>\n" * 2_000
    for hidden in (f'<a title="{TOKEN}">x</a>', f"<!-- {TOKEN} -->", f"<!-- {TOKEN}"):
        text = page + hidden + page
        (found,) = tokens_in(text)
        assert text[found.start : found.end] == TOKEN
        assert TOKEN not in redact_tokens(text)


NOISE = [
    "hf", "HF", "_", "__", " ", "  ", "\t", "*", "**", " ** ", "`", "~", "-", ":", ".",
    "x", "@", "9", "+", "/", "<b>", "</b>", "<p>", "<ol><li>", "<!-- -->", "<!--", "-->",
    '<a href="', '">', "&amp;", "&#104;", "\u200b", "\uff48", "\n",
]  # fmt: skip


def _disguised(rng: random.Random) -> str:
    """A token variant with random noise before, after and (sometimes) between letters."""
    token = rng.choice([TOKEN, "HF-" + BODY, "hf " + BODY, BODY, "hf_" + BODY[:20]])
    letters = "".join(c + (rng.choice(NOISE) if rng.random() < 0.08 else "") for c in token)
    noise = lambda: "".join(rng.choice(NOISE) for _ in range(rng.randint(0, 8)))  # noqa: E731
    return noise() + letters + noise()


def test_the_quick_tests_never_lose_what_the_exact_reading_finds():
    """``find_tokens`` reads a text exactly only where its C-speed tests say a token may
    be; over thousands of token variants with random markup, separators and noise about
    them, those tests never turn away a text the exact reading finds a token in."""
    rng = random.Random(11)
    checked = 0
    for _ in range(5_000):
        text = _disguised(rng)
        exact = token_text._find_in(text, True, True, False)
        checked += bool(exact)
        assert token_text.find_tokens(text) == exact, text
    assert checked > 300


RUN_NOISE = [*NOISE, "hf_", "Hf-", "hf\u2010", "hf:\u00a0", "\u00a0", "\u3000", "é", "\udc80"]
RUN_NOISE += ["a" * 40]


def test_the_windowed_search_finds_what_a_full_scan_finds():
    """``VARIANT_RE`` is tried only around runs of letters long enough to hold a token;
    over thousands of texts with tokens, near-tokens, separators, blanks of other scripts,
    non-ASCII letters and long runs at every place, that finds exactly the matches (spans
    and groups) a scan of the whole text finds."""
    rng = random.Random(12)
    matched = 0
    for _ in range(5_000):
        pieces = [_disguised(rng) if rng.random() < 0.5 else rng.choice(RUN_NOISE)]
        pieces += [rng.choice(RUN_NOISE + [BODY, TOKEN, BODY[:30]]) for _ in range(6)]
        rng.shuffle(pieces)
        text = "".join(pieces)
        full = [(m.span(), m.groups()) for m in token_text.VARIANT_RE.finditer(text)]
        windowed = [(m.span(), m.groups()) for m in token_text._variant_matches(text)]
        assert windowed == full, text
        matched += bool(full)
    assert matched > 1_000
