"""The TOTP encryption key: from settings, or a generated key file readable by its owner only."""

from __future__ import annotations

import stat

import pytest

from core.encryption import SecretUnreadable, decrypt_secret, encrypt_secret
from core.settings import get_settings


def test_generated_key_file_is_private_and_reused(monkeypatch, isolated_settings):
    monkeypatch.delenv("BACKOFFICE_SECRET_KEY")
    get_settings.cache_clear()
    token = encrypt_secret("JBSWY3DPEHPK3PXP")
    key_file = get_settings().resolved_key_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "JBSWY3DPEHPK3PXP" not in token
    assert decrypt_secret(token) == "JBSWY3DPEHPK3PXP"


def test_a_passphrase_works_and_a_wrong_key_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", "a long passphrase, not a fernet key")
    get_settings.cache_clear()
    token = encrypt_secret("secret")
    assert decrypt_secret(token) == "secret"
    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", "another passphrase")
    get_settings.cache_clear()
    with pytest.raises(SecretUnreadable):
        decrypt_secret(token)
