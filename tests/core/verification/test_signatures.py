"""The SSHSIG check against real ssh-keygen keys and signatures: what passes, and every
way a signature is refused."""

from __future__ import annotations

import base64

import pytest
import sshsig

from core.accounts.ssh_keys import parse_public_key
from core.store.tables import SshKey
from core.verification.signatures import SignatureRejected, parse_signature, verify_signature
from tests.conftest import require
from tests.support.signing import (
    SSH_KEYGEN,
    make_key,
    sign,
    sign_ed25519_by_hand,
    sk_ed25519_by_hand,
)

NS = "2fa-recovery@huggingface.co"
MESSAGE = (
    "Hugging Face 2FA recovery challenge\nticket: 7\nnonce: abc\nexpires: 2026-12-05T12:00:00Z\n"
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    require(SSH_KEYGEN is not None, "ssh-keygen is not installed")
    folder = tmp_path_factory.mktemp("keys")
    return {t: make_key(folder, t) for t in ("ed25519", "rsa", "ecdsa")} | {
        "other": make_key(folder, "ed25519", "id_other")
    }


def registered(*pairs) -> list[SshKey]:
    rows = []
    for pair in pairs:
        key = parse_public_key(pair.public_line)
        rows.append(
            SshKey(
                user_id=1,
                key_type=key.key_type,
                public_key=key.openssh,
                fingerprint_sha256=key.fingerprint_sha256,
                fingerprint_md5=key.fingerprint_md5,
            )
        )
    return rows


@pytest.mark.parametrize("key_type", ["ed25519", "rsa", "ecdsa"])
def test_a_real_signature_of_the_challenge_verifies(keys, key_type):
    pair = keys[key_type]
    armored = sign(keys[key_type], MESSAGE, NS)
    key = verify_signature(
        armored, message=MESSAGE, namespace=NS, keys=registered(keys["other"], pair)
    )
    assert key.fingerprint_sha256 == parse_public_key(pair.public_line).fingerprint_sha256


def test_sha256_hash_and_an_editor_saved_crlf_file_are_accepted(keys):
    armored = sign(keys["ed25519"], MESSAGE.replace("\n", "\r\n"), NS, hashalg="sha256")
    assert parse_signature(armored).hash_algo == b"sha256"
    verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


@pytest.mark.parametrize("key_type", ["ed25519", "rsa", "ecdsa"])
def test_wrong_message_is_refused(keys, key_type):
    armored = sign(keys[key_type], MESSAGE.replace("nonce: abc", "nonce: abd"), NS)
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys[key_type]))


def test_wrong_namespace_is_refused(keys):
    armored = sign(keys["ed25519"], MESSAGE, "git")
    with pytest.raises(SignatureRejected, match="namespace 'git'"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


def test_a_key_not_on_the_account_is_refused(keys):
    armored = sign(keys["other"], MESSAGE, NS)
    with pytest.raises(SignatureRejected, match="not registered") as err:
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))
    assert (
        err.value.signer_fingerprint
        == parse_public_key(keys["other"].public_line).fingerprint_sha256
    )


def test_unsupported_hash_is_refused_although_sshsig_alone_accepts_it(keys):
    armored = sign_ed25519_by_hand(keys["ed25519"], MESSAGE.encode(), NS, hash_algo="sha1")
    assert sshsig.check_signature(MESSAGE, armored, NS)  # the library would let it through
    with pytest.raises(SignatureRejected, match="Unsupported signature hash 'sha1'"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


def test_a_hand_made_sha512_signature_passes_so_the_refusals_are_about_the_defect(keys):
    armored = sign_ed25519_by_hand(keys["ed25519"], MESSAGE.encode(), NS, hash_algo="sha512")
    verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


def test_trailing_bytes_inside_the_signature_are_refused(keys):
    armored = sign_ed25519_by_hand(
        keys["ed25519"], MESSAGE.encode(), NS, hash_algo="sha512", trailing=b"\x00extra"
    )
    assert sshsig.check_signature(MESSAGE, armored, NS)  # the library ignores them
    with pytest.raises(SignatureRejected, match="trailing data"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


def test_text_after_the_end_line_is_refused(keys):
    armored = sign(keys["ed25519"], MESSAGE, NS) + "PS: also this\n"
    with pytest.raises(SignatureRejected, match="Trailing data after the END"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=registered(keys["ed25519"]))


def test_an_altered_signature_is_refused(keys):
    armored = sign(keys["ecdsa"], MESSAGE, NS)
    blob = bytearray(parse_signature(armored).blob)
    blob[-5] ^= 0x01
    tampered = sshsig.sshsig.ssh_enarmor_sshsig(bytes(blob))
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_signature(tampered, message=MESSAGE, namespace=NS, keys=registered(keys["ecdsa"]))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "no BEGIN"),
        ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n", "no END"),
        ("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----", "base64"),
        (
            "-----BEGIN SSH SIGNATURE-----\n"
            + base64.b64encode(b"SSHSIG\x00\x00\x00\x01\x00\x00\x00\x40ab").decode()
            + "\n-----END SSH SIGNATURE-----",
            "malformed",
        ),
    ],
)
def test_malformed_armor_is_refused(text, reason):
    with pytest.raises(SignatureRejected, match=reason):
        parse_signature(text)


def sk_registered(public_line: str) -> list[SshKey]:
    key = parse_public_key(public_line)
    return [
        SshKey(
            user_id=1,
            key_type=key.key_type,
            public_key=key.openssh,
            fingerprint_sha256=key.fingerprint_sha256,
            fingerprint_md5=key.fingerprint_md5,
        )
    ]


def test_a_security_key_signature_is_verified_by_ssh_keygen(keys):
    line, armored = sk_ed25519_by_hand(keys["ed25519"], MESSAGE.encode(), NS)
    key = verify_signature(armored, message=MESSAGE, namespace=NS, keys=sk_registered(line))
    assert key.key_type == "sk-ssh-ed25519@openssh.com"


def test_a_security_key_signature_of_another_message_is_refused(keys):
    line, armored = sk_ed25519_by_hand(keys["ed25519"], b"something else", NS)
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_signature(armored, message=MESSAGE, namespace=NS, keys=sk_registered(line))
