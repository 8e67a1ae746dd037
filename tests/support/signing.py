"""Real SSH keys and SSHSIG signatures made by ``ssh-keygen`` at test time, plus a hand-made
signer for signatures ``ssh-keygen`` refuses to produce (e.g. an unsupported hash)."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_ssh_private_key
from sshsig.binary_io import SshWriter
from sshsig.sshsig import SshsigWrapper, ssh_enarmor_sshsig

SSH_KEYGEN = shutil.which("ssh-keygen")


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_line: str
    key_type: str


def make_key(folder: Path, key_type: str, name: str | None = None) -> KeyPair:
    """A fresh key: ``key_type`` is ed25519, rsa or ecdsa."""
    path = folder / (name or f"id_{key_type}")
    args = [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", f"{key_type}@test", "-f", str(path)]
    if key_type == "rsa":
        args += ["-b", "2048"]
    subprocess.run(args, check=True, capture_output=True)
    line = path.with_suffix(".pub").read_text().strip()
    return KeyPair(private_path=path, public_line=line, key_type=line.split()[0])


def sign(key: KeyPair, message: str | bytes, namespace: str, *, hashalg: str | None = None) -> str:
    """``ssh-keygen -Y sign`` over ``message``; returns the armored signature."""
    data = message.encode() if isinstance(message, str) else message
    folder = key.private_path.parent
    msg_file = folder / f"msg-{hashlib.sha256(data).hexdigest()[:12]}-{namespace[:8]}.txt"
    msg_file.write_bytes(data)
    sig_file = msg_file.with_name(msg_file.name + ".sig")
    sig_file.unlink(missing_ok=True)
    args = [SSH_KEYGEN, "-Y", "sign", "-f", str(key.private_path), "-n", namespace]
    if hashalg:
        args += ["-O", f"hashalg={hashalg}"]
    subprocess.run([*args, str(msg_file)], check=True, capture_output=True)
    return sig_file.read_text()


def sign_ed25519_by_hand(
    key: KeyPair, message: bytes, namespace: str, *, hash_algo: str, trailing: bytes = b""
) -> str:
    """A cryptographically valid SSHSIG made without ssh-keygen, to build inputs OpenSSH
    never emits (a sha1 hash, bytes after the last field)."""
    private = load_ssh_private_key(key.private_path.read_bytes(), password=None)
    digest = hashlib.new(hash_algo, message).digest()
    to_sign = SshsigWrapper(
        namespace=namespace.encode(), hash_algo=hash_algo.encode(), hash=digest
    ).to_bytes()
    raw = private.sign(to_sign)
    sig_pkt = SshWriter(io.BytesIO())
    sig_pkt.write_string(b"ssh-ed25519")
    sig_pkt.write_string(raw)
    blob = SshWriter(io.BytesIO())
    blob.write(b"SSHSIG")
    blob.write_uint32(1)
    blob.write_string(base64.b64decode(key.public_line.split()[1]))
    blob.write_string(namespace.encode())
    blob.write_string(b"")
    blob.write_string(hash_algo.encode())
    blob.write_string(sig_pkt.output_fh.getvalue())
    return ssh_enarmor_sshsig(blob.output_fh.getvalue() + trailing)


def sk_ed25519_by_hand(
    key: KeyPair, message: bytes, namespace: str, *, application: bytes = b"ssh:"
) -> tuple[str, str]:
    """A security-key (``sk-ssh-ed25519@openssh.com``) public key line and SSHSIG signature
    made from an ordinary ed25519 key, signing what the authenticator would sign
    (PROTOCOL.u2f: sha256(application) || flags || counter || sha256(data)). No hardware key
    is needed, and ``ssh-keygen -Y verify`` accepts it like one from a real token."""
    private = load_ssh_private_key(key.private_path.read_bytes(), password=None)
    raw_pub = base64.b64decode(key.public_line.split()[1])[-32:]
    sk_type = b"sk-ssh-ed25519@openssh.com"
    pub = SshWriter(io.BytesIO())
    pub.write_string(sk_type)
    pub.write_string(raw_pub)
    pub.write_string(application)
    pub_blob = pub.output_fh.getvalue()

    wrapped = SshsigWrapper(
        namespace=namespace.encode(), hash_algo=b"sha512", hash=hashlib.sha512(message).digest()
    ).to_bytes()
    flags, counter = b"\x01", (7).to_bytes(4, "big")
    signed = (
        hashlib.sha256(application).digest() + flags + counter + hashlib.sha256(wrapped).digest()
    )
    sig = SshWriter(io.BytesIO())
    sig.write_string(sk_type)
    sig.write_string(private.sign(signed))
    sig.write(flags + counter)

    blob = SshWriter(io.BytesIO())
    blob.write(b"SSHSIG")
    blob.write_uint32(1)
    blob.write_string(pub_blob)
    blob.write_string(namespace.encode())
    blob.write_string(b"")
    blob.write_string(b"sha512")
    blob.write_string(sig.output_fh.getvalue())
    public_line = f"{sk_type.decode()} {base64.b64encode(pub_blob).decode()}"
    return public_line, ssh_enarmor_sshsig(blob.output_fh.getvalue())
