"""The sender is read as the standard library's ``getaddresses`` reads a From value; the
common simple shapes are answered without its parser, and must read the same."""

from __future__ import annotations

import random
from email.utils import getaddresses

from core.inbound.senders import SIMPLE_FROM_RE, _addresses, choose_sender

PIECES = [
    "User", "1", " ", "  ", "<", ">", "@", ".", "-", "_", "+", ",", '"', "(", ")", ":", ";",
    "a", "Z", "9", "example", "com", "\t", "\\", "[", "]", "é", "=?utf-8?q?x?=", "user1.eq",
    "@example.com", "<u@x.io>", " <", "> ",
]  # fmt: skip


def _from_value(rng: random.Random) -> str:
    """A From value: near the simple shapes (names, odd dots and hyphens, missing blanks),
    or any mix of the characters the address parser treats specially."""
    if rng.random() < 0.5:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 10)))
    words = ["User", "1", "A", "bob", "X9", ""]
    name = " ".join(rng.choice(words) for _ in range(rng.randint(0, 3)))
    local = rng.choice(["u", "user1.eq", "a+b", "a-b_c", "a..b", ".a", "a.", "x"])
    domain = rng.choice(["example.com", "a-b.c", "x", "-a.b", "a.b.", "a..b", "e.co.uk"])
    addr = f"{local}@{domain}"
    return rng.choice(
        [f"{name} <{addr}>", f"<{addr}>", addr, f"{name}<{addr}>", f" {name} <{addr}> "]
    )


def test_simple_from_values_read_as_getaddresses_reads_them():
    rng = random.Random(3)
    simple = 0
    for _ in range(20_000):
        value = _from_value(rng)
        assert _addresses(value) == getaddresses([value]), value
        simple += SIMPLE_FROM_RE.fullmatch(value) is not None
    assert simple > 1_000


def test_a_simple_from_gives_its_lower_cased_address_and_name():
    sender = choose_sender(["Jane Doe <Jane.Doe+2fa@Mail.Example.org>"])
    assert (sender.addr, sender.name, sender.problem) == (
        "jane.doe+2fa@mail.example.org",
        "Jane Doe",
        None,
    )
    assert choose_sender(["<a@b.io>"]).addr == "a@b.io"
    assert choose_sender(["a@b.io"]).addr == "a@b.io"
