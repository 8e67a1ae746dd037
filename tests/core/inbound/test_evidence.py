"""Evidence extraction against real keys and signatures from ssh-keygen."""

from __future__ import annotations

import base64
import random
import re
import struct
import subprocess

import pytest

from core.accounts.ssh_keys import KEY_TYPES
from core.accounts.tokens import hash_token
from core.inbound import evidence
from core.inbound.evidence import extract_evidence
from tests.support.signing import make_key, sign

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"


def kinds(items, kind):
    return [i for i in items if i.kind == kind]


def keygen_fingerprint(pub_path, hash_name="sha256"):
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", hash_name, "-f", str(pub_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[1]


@pytest.mark.parametrize(
    "key_type,bits",
    [("ed25519", None), ("rsa", None), ("ecdsa", "256"), ("ecdsa", "384"), ("ecdsa", "521")],
)
def test_every_openssh_key_type_on_one_line(tmp_path, key_type, bits):
    path = tmp_path / "id"
    args = ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "me@laptop", "-f", str(path)]
    if bits:
        args += ["-b", bits]
    subprocess.run(args, check=True)
    line = path.with_suffix(".pub").read_text().strip()
    items = extract_evidence([f"Here is my key:\n{line}\nThanks!"])
    (key,) = kinds(items, "ssh_public_key")
    assert key.value == line
    assert key.fingerprint == keygen_fingerprint(path.with_suffix(".pub"))


def _sk_key_line() -> str:
    def string(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    key_type = b"sk-ssh-ed25519@openssh.com"
    blob = string(key_type) + string(b"\x11" * 32) + string(b"ssh:")
    return f"{key_type.decode()} {base64.b64encode(blob).decode()} yubikey"


def test_security_key_type():
    line = _sk_key_line()
    (key,) = kinds(extract_evidence([line]), "ssh_public_key")
    assert key.value == line


def test_key_broken_across_lines_by_a_mail_client(tmp_path):
    pair = make_key(tmp_path, "rsa")
    key_type, data, comment = pair.public_line.split(" ", 2)
    broken = "\n".join(data[i : i + 60] for i in range(0, len(data), 60))
    body = f"My key is {key_type}\n{broken} {comment}\nThanks for your help\nAlice"
    (key,) = kinds(extract_evidence([body]), "ssh_public_key")
    assert key.value == pair.public_line


def test_key_not_swallowing_following_words(tmp_path):
    pair = make_key(tmp_path, "ed25519")
    key_type, data, _comment = pair.public_line.split(" ", 2)
    body = f"{key_type} {data}\nThanks\nAlice"
    (key,) = kinds(extract_evidence([body]), "ssh_public_key")
    assert key.value == f"{key_type} {data}"


def test_damaged_key_is_not_evidence():
    items = extract_evidence(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken== me"])
    assert kinds(items, "ssh_public_key") == []


def test_fingerprints_sha256_md5_and_bare(tmp_path):
    pair = make_key(tmp_path, "ed25519")
    pub = pair.private_path.with_suffix(".pub")
    sha = keygen_fingerprint(pub)
    md5 = keygen_fingerprint(pub, "md5")
    bare = md5.removeprefix("MD5:").upper()
    items = kinds(extract_evidence([f"fp {sha}\nold {md5}\nbare {bare}"]), "fingerprint")
    assert [i.value for i in items] == [sha, md5]


def test_armored_signature_even_when_quoted(tmp_path):
    pair = make_key(tmp_path, "ed25519")
    armored = sign(pair, "challenge\n", "2fa-recovery@huggingface.co")
    quoted = "\n".join("> " + line for line in armored.splitlines())
    for text in (armored, quoted):
        (sig,) = kinds(extract_evidence([f"Signed:\n{text}\n"]), "ssh_signature")
        assert sig.value == armored
        assert sig.fingerprint == keygen_fingerprint(pair.private_path.with_suffix(".pub"))


def test_token_is_hashed_and_masked():
    items = extract_evidence([f"my token is {TOKEN}."])
    (token,) = kinds(items, "token")
    assert token.value == "hf_…EfGh"
    assert token.token_hash == hash_token(TOKEN)
    assert all(TOKEN not in i.value for i in items)


def test_token_lookalikes_are_ignored():
    assert kinds(extract_evidence([TOKEN + "x", "xhf_" + "a" * 34]), "token") == []


def test_claimed_account():
    body = (
        "Hi, my username is alice-w and my email: Alice@Example.org\n"
        "Profile: https://huggingface.co/alice-w and https://huggingface.co/settings\n"
    )
    items = extract_evidence([body], ignore_emails=["website@huggingface.co"])
    assert [i.value for i in kinds(items, "claimed_username")] == ["alice-w"]
    assert [i.value for i in kinds(items, "claimed_email")] == ["alice@example.org"]


def test_support_address_is_not_a_claim():
    items = extract_evidence(
        ["email: website@huggingface.co"], ignore_emails=["website@huggingface.co"]
    )
    assert kinds(items, "claimed_email") == []


def test_evidence_in_pub_attachment_text(tmp_path):
    pair = make_key(tmp_path, "ecdsa")
    items = extract_evidence(["see attached", pair.public_line + "\n"])
    assert kinds(items, "ssh_public_key")[0].value == pair.public_line


def test_prose_about_the_account_is_not_a_claim():
    items = extract_evidence(["My account was hacked and my login is broken. Account: bob-1"])
    assert [i.value for i in kinds(items, "claimed_username")] == ["bob-1"]


def test_the_key_type_pattern_matches_where_its_plain_spelling_does():
    """``KEY_TYPE_RE`` is written for ``re``'s first-letter scan, and ``_key_type_matches``
    skips to each ``ssh-``/``ecdsa-``; over random texts of key types, their fragments and
    the characters that may or may not come before one, both find what the plain spelling
    (a look-behind, then the types longest first) finds."""
    types = sorted(KEY_TYPES, key=len)[::-1]
    plain = re.compile(r"(?<![\w@.-])(" + "|".join(map(re.escape, types)) + r")\s")
    pieces = [*types, "sk-", "ssh-", "ecdsa-", "s", "e", "k", " ", "\n", "\t", "@", ".", "-"]
    pieces += ["x", "9", "_", "é", "(", "\u00a0", "openssh.com "]
    rng = random.Random(5)
    found = 0
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        expected = [(m.span(), m.group(1)) for m in plain.finditer(text)]
        assert [(m.span(), m.group(1)) for m in evidence.KEY_TYPE_RE.finditer(text)] == expected
        assert [(m.span(), m.group(1)) for m in evidence._key_type_matches(text)] == expected
        found += bool(expected)
    assert found > 200
