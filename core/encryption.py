"""Encryption at rest for secrets the service must read back (TOTP seeds).

The key comes from ``BACKOFFICE_SECRET_KEY`` (a Fernet key, or any passphrase, which is
stretched with HKDF) or from a key file created on first use with mode 0600."""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import SecretUnreadable
from core.settings import get_settings


def _fernet_key_from(value: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return value.encode()
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"backoffice totp secrets"
    ).derive(value.encode())
    return base64.urlsafe_b64encode(derived)


def _load_or_create_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


@lru_cache
def _fernet(key_setting: str | None, key_file: Path) -> Fernet:
    if key_setting:
        return Fernet(_fernet_key_from(key_setting))
    return Fernet(_load_or_create_key_file(key_file))


@lru_cache
def _derived(key_setting: str | None, key_file: Path, label: bytes) -> bytes:
    material = key_setting.encode() if key_setting else _load_or_create_key_file(key_file)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


def derived_key(label: bytes) -> bytes:
    """A 32-byte key for one purpose (``label``), derived with HKDF from the same secret as
    the encryption key (``BACKOFFICE_SECRET_KEY`` or the key file); never stored anywhere."""
    settings = get_settings()
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    return _derived(key, settings.resolved_key_file(), label)


def _current() -> Fernet:
    settings = get_settings()
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    return _fernet(key, settings.resolved_key_file())


def encrypt_secret(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored secret does not decrypt with the configured key.") from exc
