"""SSHSIG proof of possession: an armored ``ssh-keygen -Y sign`` signature over a ticket's
challenge, checked against the account's registered keys.

The structure (armor, magic, version, namespace, hash, trailing bytes) is checked here for
every key type because ``sshsig`` accepts any hashlib algorithm and ignores trailing bytes;
the cryptography is done by ``sshsig`` for ed25519 and RSA and by ``ssh-keygen -Y verify``
for the types ``sshsig`` lacks (ECDSA, security keys)."""

from __future__ import annotations

import base64
import binascii
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sshsig
from sshsig.binary_io import SshReader
from sshsig.sshsig import SshsigSignature

from core.accounts.ssh_keys import fingerprint_sha256
from core.store.tables import SshKey

BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
ALLOWED_HASHES = frozenset({b"sha256", b"sha512"})
"""The only two hashes OpenSSH's sshsig.c signs or accepts."""
SSHSIG_PY_TYPES = frozenset({"ssh-ed25519", "ssh-rsa"})
SSH_KEYGEN_TIMEOUT = 10
SK_TRAILER = 5
"""A security key's signature ends with its flags byte and a uint32 counter (PROTOCOL.u2f)."""


class SignatureRejected(Exception):
    """The signature is not a valid proof; ``reason`` is the sentence to show staff."""

    def __init__(self, reason: str, *, signer_fingerprint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signer_fingerprint = signer_fingerprint


@dataclass(frozen=True)
class ParsedSignature:
    blob: bytes
    public_key: bytes
    namespace: bytes
    hash_algo: bytes
    signer_fingerprint: str

    @property
    def armored(self) -> str:
        return sshsig.sshsig.ssh_enarmor_sshsig(self.blob)


def _dearmor(text: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or lines[0] != BEGIN:
        raise SignatureRejected("Not an SSH signature (no BEGIN SSH SIGNATURE line).")
    try:
        end = lines.index(END)
    except ValueError:
        raise SignatureRejected("The SSH signature is cut off (no END line).") from None
    if any(lines[end + 1 :]):
        raise SignatureRejected("Trailing data after the END SSH SIGNATURE line.")
    try:
        return base64.b64decode("".join(lines[1:end]), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("The SSH signature's base64 is damaged.") from None


def parse_signature(text: str) -> ParsedSignature:
    """The armored signature's fields, refusing anything OpenSSH itself would not produce."""
    blob = _dearmor(text)
    try:
        outer = SshsigSignature(blob)
    except NotImplementedError:
        raise SignatureRejected("Unsupported SSH signature format version.") from None
    except ValueError:
        raise SignatureRejected("The SSH signature is malformed.") from None
    canonical = bytes(outer)
    if blob != canonical:
        if len(blob) > len(canonical) and blob.startswith(canonical):
            raise SignatureRejected("The SSH signature has trailing data.")
        raise SignatureRejected("The SSH signature is malformed or truncated.")
    inner = SshReader(outer.signature)
    try:
        sig_type = inner.read_string()
        inner.read_string()
    except ValueError:
        raise SignatureRejected("The SSH signature is malformed.") from None
    rest = inner.input_fh.read()
    expected = SK_TRAILER if sig_type.startswith(b"sk-") else 0
    if len(rest) != expected:
        if len(rest) > expected:
            raise SignatureRejected("The SSH signature has trailing data.")
        raise SignatureRejected("The SSH signature is malformed or truncated.")
    return ParsedSignature(
        blob=blob,
        public_key=outer.public_key,
        namespace=outer.namespace,
        hash_algo=outer.hash_algo,
        signer_fingerprint=fingerprint_sha256(outer.public_key),
    )


def message_variants(message: str) -> list[bytes]:
    """The challenge as sent, and as an editor may have saved it (CRLF, no final newline).
    Every variant holds the ticket's nonce, so accepting them weakens nothing."""
    variants = [message, message.rstrip("\n"), message.replace("\n", "\r\n")]
    return [v.encode() for v in dict.fromkeys(variants)]


def _verify_with_sshsig(key: SshKey, parsed: ParsedSignature, messages: list[bytes]) -> bool:
    allowed = [sshsig.PublicKey.from_openssh_str(key.public_key)]
    namespace = parsed.namespace.decode("ascii")
    for message in messages:
        try:
            sshsig.verify(message, parsed.armored, allowed, namespace)
            return True
        except sshsig.InvalidSignature:
            continue
    return False


def _verify_with_ssh_keygen(key: SshKey, parsed: ParsedSignature, messages: list[bytes]) -> bool:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise SignatureRejected(f"{key.key_type} signatures need ssh-keygen, which is missing.")
    namespace = parsed.namespace.decode("ascii")
    with tempfile.TemporaryDirectory(prefix="sshsig-") as tmp:
        signers = Path(tmp, "allowed_signers")
        signers.write_text(f'claimant namespaces="{namespace}" {key.public_key}\n')
        sig_file = Path(tmp, "challenge.sig")
        sig_file.write_text(parsed.armored)
        for message in messages:
            result = subprocess.run(
                [exe, "-Y", "verify", "-f", str(signers), "-I", "claimant", "-n", namespace]
                + ["-s", str(sig_file)],
                input=message,
                capture_output=True,
                timeout=SSH_KEYGEN_TIMEOUT,
                check=False,
            )
            if result.returncode == 0:
                return True
    return False


def verify_signature(
    armored: str, *, message: str, namespace: str, keys: Sequence[SshKey]
) -> SshKey:
    """The registered key in ``keys`` that made ``armored`` over ``message`` in ``namespace``.

    Raises ``SignatureRejected`` naming the first problem found."""
    parsed = parse_signature(armored)
    if parsed.namespace != namespace.encode():
        shown = parsed.namespace.decode("ascii", "replace")
        raise SignatureRejected(
            f"Signed for namespace {shown!r}, not {namespace!r}.",
            signer_fingerprint=parsed.signer_fingerprint,
        )
    if parsed.hash_algo not in ALLOWED_HASHES:
        shown = parsed.hash_algo.decode("ascii", "replace")
        raise SignatureRejected(
            f"Unsupported signature hash {shown!r} (only sha256 and sha512).",
            signer_fingerprint=parsed.signer_fingerprint,
        )
    key = next((k for k in keys if k.fingerprint_sha256 == parsed.signer_fingerprint), None)
    if key is None:
        raise SignatureRejected(
            f"Signed by {parsed.signer_fingerprint}, which is not registered on the account.",
            signer_fingerprint=parsed.signer_fingerprint,
        )
    messages = message_variants(message)
    if key.key_type in SSHSIG_PY_TYPES:
        valid = _verify_with_sshsig(key, parsed, messages)
    else:
        valid = _verify_with_ssh_keygen(key, parsed, messages)
    if not valid:
        raise SignatureRejected(
            "The signature does not verify over this ticket's challenge "
            "(a different message, or an altered signature).",
            signer_fingerprint=parsed.signer_fingerprint,
        )
    return key
