"""SSH public keys: parsing (paramiko), fingerprints as ``ssh-keygen -l`` prints them, and
registration on an account (one key, one account)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

import paramiko
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import AlreadyExists, InvalidInput, MalformedPublicKey, NotFound
from core.store.tables import SshKey, User

# Security-key types are OpenSSH's own; paramiko cannot load them, so their wire format is
# checked by hand (a string type, a curve/key blob, an application string).
SECURITY_KEY_TYPES = {
    "sk-ssh-ed25519@openssh.com": "ED25519-SK",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
}
PARAMIKO_TYPES = {
    "ssh-ed25519": "ED25519",
    "ssh-rsa": "RSA",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
}
KEY_TYPES = {**PARAMIKO_TYPES, **SECURITY_KEY_TYPES}
MAX_KEY_LINE = 16_384


@dataclass(frozen=True)
class PublicKey:
    key_type: str
    blob: bytes
    comment: str
    bits: int | None

    @property
    def openssh(self) -> str:
        return f"{self.key_type} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint_sha256(self) -> str:
        return fingerprint_sha256(self.blob)

    @property
    def fingerprint_md5(self) -> str:
        return fingerprint_md5(self.blob)

    @property
    def label(self) -> str:
        """``ED25519``, ``RSA``... as in the last column of ``ssh-keygen -l``."""
        return KEY_TYPES[self.key_type]


def fingerprint_sha256(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def fingerprint_md5(blob: bytes) -> str:
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return "MD5:" + ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise MalformedPublicKey("The SSH public key is truncated.")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise MalformedPublicKey("The SSH public key is truncated.")
    return blob[offset + 4 : end], end


def _check_security_key(key_type: str, blob: bytes) -> int:
    offset = len(key_type) + 4
    if key_type.startswith("sk-ecdsa"):
        curve, offset = _read_string(blob, offset)
        if curve != b"nistp256":
            raise MalformedPublicKey("The security key names an unknown curve.")
    _key, offset = _read_string(blob, offset)
    _application, offset = _read_string(blob, offset)
    if offset != len(blob):
        raise MalformedPublicKey("The SSH public key has trailing data.")
    return 256


def parse_public_key(text: str) -> PublicKey:
    """Parse one OpenSSH public key line (``type base64 [comment]``).

    Raises ``MalformedPublicKey`` with a sentence a person can act on."""
    line = " ".join(text.strip().split())
    if not line:
        raise MalformedPublicKey("No SSH public key was given.")
    if len(line) > MAX_KEY_LINE:
        raise MalformedPublicKey("That is too long to be an SSH public key.")
    if line.startswith("-----BEGIN"):
        raise MalformedPublicKey(
            "That looks like a private key or a PEM file; paste the .pub file's one line."
        )
    parts = line.split(" ", 2)
    if len(parts) < 2:
        raise MalformedPublicKey("An SSH public key is 'TYPE BASE64 [comment]' on one line.")
    key_type, data = parts[0], parts[1]
    comment = parts[2] if len(parts) == 3 else ""
    if key_type not in KEY_TYPES:
        raise MalformedPublicKey(f"Unsupported SSH key type {key_type!r}.")
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedPublicKey("The SSH public key's base64 part is damaged.") from exc
    inner, _ = _read_string(blob, 0)
    if inner.decode("ascii", "replace") != key_type:
        raise MalformedPublicKey("The SSH public key's type does not match its data.")
    if key_type in SECURITY_KEY_TYPES:
        bits: int | None = _check_security_key(key_type, blob)
    else:
        try:
            key = paramiko.PKey.from_type_string(key_type, blob)
        except Exception as exc:  # paramiko raises many types for bad material
            raise MalformedPublicKey("The SSH public key's data is not a valid key.") from exc
        if key.asbytes() != blob:
            raise MalformedPublicKey("The SSH public key has trailing data.")
        bits = key.get_bits()
    return PublicKey(key_type=key_type, blob=blob, comment=comment, bits=bits)


def normalize_fingerprint(text: str) -> str | None:
    """``SHA256:...`` or ``MD5:aa:bb...`` / bare colon-hex into the stored form, else None."""
    text = text.strip()
    if text.upper().startswith("SHA256:"):
        value = text[7:].rstrip("=")
        if re.fullmatch(r"[A-Za-z0-9+/]{43}", value):
            return "SHA256:" + value
        return None
    if text.upper().startswith("MD5:"):
        text = text[4:]
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2}:){15}[0-9A-Fa-f]{2}", text):
        return "MD5:" + text.lower()
    return None


def add_ssh_key(
    session: Session, *, user: User, public_key: str, clock: Clock = system_clock
) -> SshKey:
    """Register a key on ``user``. A key already on any account is refused."""
    key = parse_public_key(public_key)
    existing = session.exec(
        select(SshKey).where(SshKey.fingerprint_sha256 == key.fingerprint_sha256)
    ).first()
    if existing is not None:
        raise AlreadyExists(f"The key {key.fingerprint_sha256} is already registered.")
    row = SshKey(
        user_id=user.id,
        key_type=key.key_type,
        public_key=key.openssh,
        comment=key.comment[:200],
        fingerprint_sha256=key.fingerprint_sha256,
        fingerprint_md5=key.fingerprint_md5,
        bits=key.bits,
        created_at=clock(),
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"The key {key.fingerprint_sha256} is already registered.") from exc
    record_event(
        session,
        action="ssh_key.added",
        actor=f"user:{user.username}",
        user_id=user.id,
        details={"fingerprint": key.fingerprint_sha256, "type": key.key_type},
        clock=clock,
    )
    return row


def list_ssh_keys(session: Session, user: User) -> list[SshKey]:
    return list(session.exec(select(SshKey).where(SshKey.user_id == user.id).order_by(SshKey.id)))


def revoke_ssh_key(
    session: Session,
    *,
    user: User,
    fingerprint: str,
    actor: str | None = None,
    clock: Clock = system_clock,
) -> SshKey:
    """Mark a key of ``user`` revoked (SHA256 or MD5 fingerprint): it stays on record, so it
    cannot be registered again, but proves nothing any more (SSH self-service refuses it).
    Revoking twice is a no-op; the audit row is written once."""
    normalized = normalize_fingerprint(fingerprint)
    if normalized is None:
        raise InvalidInput(
            f"{fingerprint!r} is not an SSH key fingerprint (SHA256:... or MD5:...)."
        )
    column = SshKey.fingerprint_md5 if normalized.startswith("MD5:") else SshKey.fingerprint_sha256
    row = session.exec(
        select(SshKey).where(SshKey.user_id == user.id, column == normalized)
    ).first()
    if row is None:
        raise NotFound(f"{user.username} has no SSH key {normalized}.")
    revoked = session.execute(
        update(SshKey)
        .where(SshKey.id == row.id, SshKey.revoked_at.is_(None))
        .values(revoked_at=clock())
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount == 1:
        record_event(
            session,
            action="ssh_key.revoked",
            actor=actor or f"user:{user.username}",
            user_id=user.id,
            details={"fingerprint": row.fingerprint_sha256},
            clock=clock,
        )
    session.refresh(row)
    return row
