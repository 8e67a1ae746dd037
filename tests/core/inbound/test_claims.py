"""Claims (issue #11, class 4): the account a message names is read only from its
sender's own new text, never from quoted replies, forwarded messages, signatures or
newsletter footers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from core.inbound.evidence import CLAIM_ANY_CASE_RE, _claim_matches, extract_evidence
from core.inbound.own_text import FOOTER_RE, _has_footer, own_text
from core.inbound.parsing import parse_message
from tests.support.mail import recovery_email

DATA = Path(__file__).parents[2] / "data" / "mail"


def claimed(raw: bytes) -> set[tuple[str, str]]:
    p = parse_message(raw, max_bytes=1_000_000)
    items = extract_evidence(p.evidence_texts(), claim_texts=p.claim_texts())
    return {(i.kind, i.value) for i in items if i.kind.startswith("claimed_")}


@pytest.mark.parametrize(
    "body",
    [
        "Thanks!\n\nOn Mon, 30 Nov 2026 at 09:00, Eve <eve@example.org> wrote:\n"
        "> my username is evelyn",
        "Thanks!\n\nOn Mon, 30 Nov 2026 at 09:00, Eve Example\n<eve@example.org> wrote:\n"
        "my username is evelyn",
        "Thanks!\n> my username is evelyn\n",
        "Thanks!\n\n-----Original Message-----\nFrom: Eve\nmy username is evelyn",
        "Thanks!\n\n________________________________\nFrom: Eve <eve@example.org>\n"
        "Sent: Monday\nTo: me\nSubject: x\n\nmy username is evelyn",
        "FYI\n\n---------- Forwarded message ---------\nFrom: Eve\nmy username is evelyn",
        "FYI\n\nBegin forwarded message:\n\nFrom: Eve\nmy username is evelyn",
        "Am 30.11.2026 um 09:00 schrieb Eve <eve@example.org>:\nmy username is evelyn",
        "Help please.\n-- \nDave\nAccount: evelyn (my wife's)",
        "Help please.\nSent from my iPhone\nusername: evelyn",
        "Help please.\n\nYou are receiving this because you subscribed.\n"
        "Manage your account: evelyn | Unsubscribe",
    ],
)
def test_quoted_forwarded_signature_and_footer_claims_are_not_taken(body):
    assert claimed(recovery_email(body=body)) == set()


def test_the_senders_own_text_above_a_quote_is_taken():
    body = "My username is dave.\n\nOn Mon, Eve <eve@example.org> wrote:\n> my username is evelyn"
    assert claimed(recovery_email(body=body)) == {("claimed_username", "dave")}


def test_interleaved_replies_keep_the_senders_lines():
    text = own_text("> what is your account?\nusername: dave\n> and your email?\nemail: d@x.org")
    assert text == "username: dave\nemail: d@x.org"


def test_outlook_reply_sample_names_no_account():
    raw = (DATA / "outlook-reply-quoting-other-account.eml").read_bytes()
    p = parse_message(raw, max_bytes=100_000)
    assert "I cannot log in – thanks." in p.body_text  # windows-1252 en dash
    assert "evelyn" in p.body_text and "evelyn" not in p.own_text
    assert claimed(raw) == set()


def test_a_forwarded_message_attachment_is_evidence_but_names_no_account():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    inner = f"From: eve@example.org\r\nSubject: mine\r\n\r\nmy username is evelyn\r\n{key}\r\n"
    raw = (
        "From: dave@example.org\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n"
        "--M\r\nContent-Type: text/plain\r\n\r\nsee the forwarded mail\r\n"
        f"--M\r\nContent-Type: message/rfc822\r\n\r\n{inner}--M--\r\n"
    ).encode()
    p = parse_message(raw, max_bytes=100_000)
    items = extract_evidence(p.evidence_texts(), claim_texts=p.claim_texts())
    assert {i.kind for i in items} == {"ssh_public_key"}


def test_without_claim_texts_claims_come_from_each_texts_own_part():
    items = extract_evidence(["username: dave\n\nOn Mon, Eve wrote:\n> username: evelyn"])
    assert [(i.kind, i.value) for i in items] == [("claimed_username", "dave")]


def test_claim_search_finds_what_a_case_insensitive_scan_finds():
    """The claim search works on lower-cased text from the places a label can start;
    over many random texts it finds the same (label, separator, value) as a plain
    case-insensitive ``finditer``, values in their original case."""
    words = [
        "user", "name", "username", "User Name", "hub user", "account", "Account name",
        "login", "e-mail", "EMAIL address", "registered with", "is", "was", ":", "=", "Bob",
        "alice.X", "A@b.co", "x", "\n", " ", "on the hub", "userid", "myaccount", "hubuser",
        "e", "-", "mail", "(", "'", "İ", "USERNAME:", "ß",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(5000):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "\n"]) for _ in range(12))
        expected = [
            (m.group("label").lower(), m.group("sep"), m.group("value"))
            for m in CLAIM_ANY_CASE_RE.finditer(text)
        ]
        assert list(_claim_matches(text)) == expected, text


def test_a_sentence_after_account_colon_names_no_account():
    """ "about the account: when it was made" is prose, not a claim; an explicit label keeps
    even such a word, and "account: alice" still names alice."""
    found = extract_evidence(
        ["I can tell you about the account: when it was made, which orgs it is in."]
    )
    assert [e.value for e in found if e.kind == "claimed_username"] == []
    found = extract_evidence(["Account: alice. Username: when"])
    assert [e.value for e in found if e.kind == "claimed_username"] == ["alice", "when"]


FOOTER_PIECES = [
    "unsubscribe", "un", "subscribe", "you are receiving this", "you received this",
    "to stop receiving", "manage preferences", "manage your email preferences",
    "manage subscription preferences", "this e-mail was sent to", "this email was sent to",
    "this message was sent to", "receiv", "you ", "this ", "was sent", " ", "\n", "x", "é",
]  # fmt: skip


def test_a_footer_is_searched_for_only_where_one_of_its_words_is():
    """``own_text`` skips the footer pattern on a text without any ``FOOTER_WORDS``; over
    random texts of footer phrases and their pieces it decides as the pattern does."""
    rng = random.Random(8)
    footers = 0
    for _ in range(5_000):
        text = "".join(rng.choice(FOOTER_PIECES) for _ in range(rng.randint(1, 6)))
        expected = FOOTER_RE.search(text) is not None
        assert _has_footer(text) == expected, text
        footers += expected
    assert footers > 1_000
