"""SSH public keys: every OpenSSH type, fingerprints as ssh-keygen prints them, one owner."""

from __future__ import annotations

import base64

import pytest

from core.accounts.ssh_keys import add_ssh_key, normalize_fingerprint, parse_public_key
from core.accounts.users import create_user
from core.errors import AlreadyExists, MalformedPublicKey
from core.store import session_scope
from tests.support.ssh import KEY_SPECS, make_key

SK_ED25519 = (
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIHHSr7mIJhyqGX3Y"
    "ZAHK4eYuPgVxTUzlgyTGrt9XMhnBAAAABHNzaDo= user@yubikey"
)


@pytest.mark.parametrize("kind", sorted(KEY_SPECS))
def test_fingerprints_match_ssh_keygen(tmp_path, kind):
    pair = make_key(tmp_path, kind)
    key = parse_public_key(pair.public_line)
    assert key.fingerprint_sha256 == pair.keygen_fingerprint("sha256")
    assert key.fingerprint_md5 == pair.keygen_fingerprint("md5")
    assert key.comment == "test@example"


def test_security_key_type_is_accepted():
    key = parse_public_key(SK_ED25519)
    assert key.key_type == "sk-ssh-ed25519@openssh.com" and key.label == "ED25519-SK"
    assert key.fingerprint_sha256.startswith("SHA256:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No SSH public key"),
        ("ssh-ed25519", "TYPE BASE64"),
        ("ssh-foo AAAA", "Unsupported SSH key type"),
        ("ssh-ed25519 not*base64", "base64"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "private key"),
        ("ssh-rsa " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519").decode(), "does not match"),
        (
            "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00").decode(),
            "not a valid key",
        ),
        ("ssh-ed25519 " + "A" * 20000, "too long"),
    ],
)
def test_malformed_keys_get_one_clear_message(text, message):
    with pytest.raises(MalformedPublicKey, match=message):
        parse_public_key(text)


def test_trailing_data_is_refused(tmp_path):
    key_type, data, *_ = make_key(tmp_path).public_line.split()
    padded = base64.b64encode(base64.b64decode(data) + b"\x00").decode()
    with pytest.raises(MalformedPublicKey, match="trailing"):
        parse_public_key(f"{key_type} {padded}")


def test_fingerprint_forms_are_normalized():
    assert normalize_fingerprint("SHA256:njr3UvIfVWytkK3L+3F5drP+MFNxsT/zKos/WsvRv+Y") == (
        "SHA256:njr3UvIfVWytkK3L+3F5drP+MFNxsT/zKos/WsvRv+Y"
    )
    bare = "5A:7A:F3:64:5C:87:4F:77:5C:D0:F2:51:99:BD:E9:C2"
    assert normalize_fingerprint(bare) == "MD5:" + bare.lower()
    assert normalize_fingerprint("MD5:" + bare) == "MD5:" + bare.lower()
    assert normalize_fingerprint("SHA256:short") is None


def test_a_key_cannot_sit_on_two_accounts(engine, tmp_path, clock):
    pair = make_key(tmp_path)
    with session_scope(engine) as s:
        alice = create_user(
            s, username="alice", email="a@example.com", password="password-a", clock=clock
        )
        bob = create_user(
            s, username="bob", email="b@example.com", password="password-b", clock=clock
        )
        add_ssh_key(s, user=alice, public_key=pair.public_line, clock=clock)
    with session_scope(engine) as s, pytest.raises(AlreadyExists):
        add_ssh_key(
            s, user=bob, public_key=pair.public_line.replace("test@example", "other"), clock=clock
        )
