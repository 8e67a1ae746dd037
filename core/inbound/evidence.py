"""What a recovery email claims and proves: the account it names, SSH public keys (also when
a mail client broke them across lines), fingerprints, armored SSH signatures and access tokens
(kept only as a hash and a masked form). Pure: text in, ``EvidenceItem`` list out."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from urllib.parse import urlsplit

from core.accounts.ssh_keys import (
    KEY_TYPES,
    fingerprint_sha256,
    normalize_fingerprint,
    parse_public_key,
)
from core.accounts.tokens import hash_token, mask_token, redact_tokens
from core.accounts.users import EMAIL_RE, USERNAME_RE
from core.errors import MalformedPublicKey
from core.inbound.own_text import own_text
from core.settings import get_settings

KINDS = (
    "claimed_username",
    "claimed_email",
    "ssh_public_key",
    "fingerprint",
    "ssh_signature",
    "token",
)

TOKEN_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])")


def _key_type_pattern(types: list[str]) -> str:
    """``(?<![\\w@.-])(type|type|...)\\s`` (longest type first) written so that each branch
    starts with its first letter and checks the character before that letter after it: a
    pattern that starts with a look-behind is tried at every character, one whose branches
    start with letters only where those letters are (``re``'s first-character scan)."""
    by_first: dict[str, list[str]] = {}
    for key_type in types:
        by_first.setdefault(key_type[0], []).append(re.escape(key_type[1:]))
    branches = [
        f"{re.escape(first)}(?<![\\w@.-]{re.escape(first)})(?:{'|'.join(rests)})"
        for first, rests in by_first.items()
    ]
    return f"({'|'.join(branches)})\\s"


KEY_TYPE_RE = re.compile(_key_type_pattern(sorted(KEY_TYPES, key=len)[::-1]))

BASE64_CHUNK_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
MAX_KEY_CHUNKS = 64
MAX_CANDIDATES = 200
"""Candidates of one kind read from one text: a recovery email holds a few keys, tokens,
fingerprints or signatures; a pasted 10 MB log of key lines would otherwise cost a key
parse per line."""
WORD_RE = re.compile(r"\S+")
SHA256_FP_RE = re.compile(r"SHA256:[A-Za-z0-9+/]{43}=?(?![A-Za-z0-9+/])")
"""Starts with its literal, which ``re`` finds by a fast scan (a leading look-behind turns
that off); the character before is checked by ``_fingerprints``."""
FINGERPRINT_TOUCHING = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
MD5_FP_RE = re.compile(
    r"(?<![0-9A-Fa-f:])(?:MD5:)?(?:[0-9A-Fa-f]{2}:){15}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])"
)
SIGNATURE_RE = re.compile(
    r"-----BEGIN SSH SIGNATURE-----(.*?)-----END SSH SIGNATURE-----", re.DOTALL
)
CLAIM_RE = re.compile(
    r"\b(?P<label>user\s?name|user\s?id|hub\s+user(?:name)?|account(?:\s+name)?|login|"
    r"e-?mail(?:\s+address)?|registered\s+(?:with|under|as))"
    r"(?:\s+(?:on\s+the\s+hub|on\s+hugging\s*face))?"
    r"\s*(?P<sep>[:=]|\bis\b|\bwas\b)?\s*[\"'`<(@]?"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9._%+@-]*[A-Za-z0-9]|[A-Za-z0-9])"
)
"""Searched in lower-cased text, the value then read from the original at the same place
(see ``_claim_matches``)."""
CLAIM_ANY_CASE_RE = re.compile(CLAIM_RE.pattern, re.IGNORECASE)
CLAIM_STOPWORDS = {
    "is", "was", "the", "my", "a", "an", "and", "or", "to", "on", "of", "with", "for", "i",
    "it", "has", "have", "name", "address", "recovery", "access", "details", "settings",
    "locked", "lost", "please", "that", "this", "but", "because", "as", "in", "at",
}  # fmt: skip
SENTENCE_WORDS = {
    "when", "where", "what", "which", "who", "whom", "whose", "how", "why", "if", "since",
    "there", "here", "we", "you", "he", "she", "they", "them", "our", "your", "their", "his",
    "her", "its", "not", "no", "yes", "so", "also", "still", "now", "then", "just", "only",
    "all", "any", "some", "been", "be", "are", "were", "am", "will", "would", "can", "could",
    "should", "do", "does", "did", "had", "each", "every", "both", "one", "two", "three",
}  # fmt: skip
"""Words that open a sentence after "account:" or "login:" rather than name an account
("about the account: when it was made"); an explicit "username: when" is still read."""
RESERVED_HUB_PATHS = {
    "settings", "docs", "models", "datasets", "spaces", "login", "join", "pricing", "blog",
    "organizations", "papers", "collections", "new", "api", "tasks", "learn", "enterprise",
    "support", "chat", "posts", "terms-of-service", "privacy", "welcome", "notifications",
}  # fmt: skip
SIGNATURE_WRAP = 70


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    value: str
    """Public material only; a token's masked form."""
    fingerprint: str | None = None
    token_hash: str | None = None


def _tokens(text: str) -> Iterable[EvidenceItem]:
    if "hf_" not in text:  # the regex's look-behind makes a full scan cost more than this
        return
    for match in islice(TOKEN_IN_TEXT_RE.finditer(text), MAX_CANDIDATES):
        token = match.group(0)
        yield EvidenceItem("token", mask_token(token[-4:]), token_hash=hash_token(token))


KEY_TYPE_MARKS = ("ssh-", "ecdsa-")
"""Every key type holds one of these at its start or right after ``sk-``."""


def _key_type_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``KEY_TYPE_RE.finditer(text)`` finds, each search starting from the next
    ``KEY_TYPE_MARKS`` (found by ``str.find``) instead of reading every character between:
    a key sits in a few lines of a long mail. Each mark's next place is kept, so a mark
    the text lacks is looked for once, not once per match."""
    pos = 0
    next_at = [text.find(mark) for mark in KEY_TYPE_MARKS]  # -1: none left
    while True:
        for i, mark in enumerate(KEY_TYPE_MARKS):
            if 0 <= next_at[i] < pos:  # searched again only once passed (never a rescan)
                next_at[i] = text.find(mark, pos)
        marks = [at for at in next_at if at != -1]
        if not marks:
            return
        match = KEY_TYPE_RE.search(text, max(pos, min(marks) - len("sk-")))
        if match is None:
            return
        yield match
        pos = match.end()


def _ssh_keys(text: str) -> Iterable[EvidenceItem]:
    """A key is the type word followed by base64 chunks that may be split by line breaks;
    the shortest run of chunks that parses as a valid key wins, so trailing words that
    happen to look like base64 ("Thanks") are not swallowed."""
    if "ssh-" not in text and "ecdsa-" not in text:  # every type in KEY_TYPES holds one
        return
    for match in islice(_key_type_matches(text), MAX_CANDIDATES):
        key_type = match.group(1)
        chunks: list[re.Match[str]] = []
        for token in WORD_RE.finditer(text, match.end(), match.end() + 20_000):
            if len(chunks) >= MAX_KEY_CHUNKS or not BASE64_CHUNK_RE.fullmatch(token.group(0)):
                break
            chunks.append(token)
        data = ""
        for chunk in chunks:
            data += chunk.group(0)
            if len(data) % 4:
                continue
            try:
                key = parse_public_key(f"{key_type} {data}")
            except MalformedPublicKey:
                continue
            line_end = text.find("\n", chunk.end())
            rest = text[chunk.end() : line_end if line_end >= 0 else len(text)][:2_000].strip()
            comment = redact_tokens(rest)[:100]
            value = key.openssh + (f" {comment}" if comment else "")
            yield EvidenceItem("ssh_public_key", value, fingerprint=key.fingerprint_sha256)
            break


def _fingerprints(text: str) -> Iterable[EvidenceItem]:
    """Both regexes start with a look-behind, so a text that cannot hold a match (no
    ``SHA256:``; fewer than the 15 colons of an MD5 fingerprint) is not scanned."""
    matches: list[Iterable[re.Match[str]]] = []
    if "SHA256:" in text:
        matches.append(
            m
            for m in SHA256_FP_RE.finditer(text)
            if not m.start() or text[m.start() - 1] not in FINGERPRINT_TOUCHING
        )
    if text.count(":") >= 15:
        matches.append(MD5_FP_RE.finditer(text))
    for found in matches:
        for match in islice(found, MAX_CANDIDATES):
            normalized = normalize_fingerprint(match.group(0))
            if normalized:
                yield EvidenceItem("fingerprint", normalized, fingerprint=normalized)


def _signer_fingerprint(blob: bytes) -> str | None:
    """The SHA256 fingerprint of the public key inside an SSHSIG blob (magic, version,
    string publickey, ...), so staff see which key signed before verification runs."""
    if not blob.startswith(b"SSHSIG") or len(blob) < 14:
        return None
    (length,) = struct.unpack(">I", blob[10:14])
    key = blob[14 : 14 + length]
    return fingerprint_sha256(key) if len(key) == length else None


def _signatures(text: str) -> Iterable[EvidenceItem]:
    for match in islice(SIGNATURE_RE.finditer(text), MAX_CANDIDATES):
        data = re.sub(r"[^A-Za-z0-9+/=]", "", match.group(1))
        try:
            blob = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            continue
        signer = _signer_fingerprint(blob)
        if signer is None:
            continue
        lines = [data[i : i + SIGNATURE_WRAP] for i in range(0, len(data), SIGNATURE_WRAP)]
        armored = "\n".join(
            ["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----", ""]
        )
        yield EvidenceItem("ssh_signature", armored, fingerprint=signer)


@lru_cache(maxsize=8)
def _profile_url_re(host: str) -> re.Pattern[str]:
    """``https://<hub host>/<username>``: a profile link names the account."""
    return re.compile(
        rf"(?i)\b{re.escape(host)}/([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])"
    )


def _claim_matches(text: str) -> Iterator[tuple[str, str | None, str]]:
    """Each (label, separator, value) ``CLAIM_RE`` finds, labels lower-cased and values
    as written. A case-insensitive search costs Python's ``re`` several times a search of
    the lower-cased text; where lower-casing changes the length (a few non-ASCII letters),
    the places would not line up, and the original is searched case-insensitively."""
    lowered = text.lower()
    if len(lowered) != len(text):
        for match in CLAIM_ANY_CASE_RE.finditer(text):
            yield match.group("label").lower(), match.group("sep"), match.group("value")
        return
    end = 0
    for start in _label_starts(lowered):
        if start < end:
            continue
        match = CLAIM_RE.match(lowered, start)
        if match is not None:
            end = match.end()
            yield match.group("label"), match.group("sep"), text[slice(*match.span("value"))]


CLAIM_LABEL_WORDS = ("user", "hub", "account", "login", "email", "e-mail", "registered")
"""The words a ``CLAIM_RE`` label starts with."""


def _label_starts(lowered: str) -> list[int]:
    """Where a claim's label may start, in order: a few ``str.find`` scans cost less than
    trying ``CLAIM_RE`` at every character (a match starts only at a label, so matching at
    these places in order finds what ``finditer`` finds)."""
    starts = []
    for word in CLAIM_LABEL_WORDS:
        at = lowered.find(word)
        while at != -1:
            starts.append(at)
            at = lowered.find(word, at + 1)
    return sorted(starts)


@lru_cache(maxsize=8)
def _hub_host(hub_url: str) -> str:
    return (urlsplit(hub_url).hostname or "huggingface.co").lower()


def _claims(text: str, *, ignore: set[str]) -> Iterable[EvidenceItem]:
    for label, sep, written in _claim_matches(text):
        value = written.rstrip(".")
        if value.lower() in CLAIM_STOPWORDS:
            continue
        if label.startswith(("account", "login")) and (
            sep not in (":", "=") or value.lower() in SENTENCE_WORDS
        ):
            continue  # "my account was hacked", "about the account: when it was made"
        if "@" in value:
            email = value.lower()
            if EMAIL_RE.match(email) and email not in ignore:
                yield EvidenceItem("claimed_email", email)
        elif (
            not label.startswith(("e-mail", "email", "registered"))
            and USERNAME_RE.match(value)
            and not TOKEN_IN_TEXT_RE.fullmatch(value)
        ):
            yield EvidenceItem("claimed_username", value)
    host = _hub_host(get_settings().hub_url)
    if host not in text.lower():
        return
    for match in _profile_url_re(host).finditer(text):
        name = match.group(1)
        if name.lower() not in RESERVED_HUB_PATHS and USERNAME_RE.match(name):
            yield EvidenceItem("claimed_username", name)


def extract_evidence(
    texts: Iterable[str],
    *,
    ignore_emails: Iterable[str] = (),
    claim_texts: Iterable[str] | None = None,
) -> list[EvidenceItem]:
    """Every piece of evidence in ``texts`` (body first, then attachments), deduplicated, in
    the order found. Claims (the account named) are read from ``claim_texts`` only (see
    ``ParsedMessage.claim_texts``), or, without it, from the sender's own text of each of
    ``texts``: a quoted reply or a forwarded message names someone else's account as
    easily. ``ignore_emails`` (e.g. the support address) are not claims."""
    ignore = {e.lower() for e in ignore_emails}
    texts = list(texts)
    found: dict[tuple[str, str, str | None], EvidenceItem] = {}
    for text in texts:
        if not text:
            continue
        for extractor in (_tokens, _ssh_keys, _fingerprints, _signatures):
            for item in extractor(text):
                found.setdefault((item.kind, item.value, item.token_hash), item)
    sources = list(claim_texts) if claim_texts is not None else [own_text(t) for t in texts if t]
    for text in sources:
        if not text:
            continue
        for item in _claims(redact_tokens(text), ignore=ignore):
            found.setdefault((item.kind, item.value.lower(), None), item)
    return list(found.values())
