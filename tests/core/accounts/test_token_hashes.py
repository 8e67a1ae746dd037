"""Token hashes are keyed (issue #10 item 4): a database dump cannot be searched offline for
a token, and migration 0008 keys the plain SHA-256 hashes stored before it, so existing
tokens and the evidence that names them keep matching."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import select

from core.accounts.tokens import HASH_SCHEME, authenticate_token, hash_token, issue_token
from core.accounts.users import create_user
from core.settings import get_settings
from core.store import session_scope
from core.store.engine import alembic_config, make_engine
from core.store.tables import AccessToken, Evidence

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"


def test_the_stored_hash_is_keyed_by_the_server_secret(engine, clock, monkeypatch):
    with session_scope(engine) as s:
        user = create_user(s, username="a", email="a@x.org", password="password-a", clock=clock)
        issued = issue_token(s, user=user, name="laptop", clock=clock)
    with session_scope(engine) as s:
        stored = s.get(AccessToken, issued.token.id).token_hash
    plain = hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert stored.startswith(HASH_SCHEME) and plain not in stored
    assert stored != hashlib.sha256(plain.encode()).hexdigest()
    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    assert hash_token(issued.plaintext) != stored  # another server secret, another hash


def test_the_key_file_keys_the_hash_when_no_secret_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKOFFICE_SECRET_KEY")
    get_settings.cache_clear()
    first = hash_token(TOKEN)
    assert (tmp_path / "data" / "secret.key").exists() and first == hash_token(TOKEN)


@pytest.mark.parametrize("twice", [False, True], ids=["upgrade", "downgrade-upgrade"])
def test_migration_0008_keys_the_hashes_stored_before(db_url, clock, twice):
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0007")
    plain = hashlib.sha256(TOKEN.encode()).hexdigest()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, created_at)"
                " VALUES (1, 'old', 'old@x.org', 'x', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO access_tokens (user_id, name, token_hash, last4, created_at)"
                " VALUES (1, 'old token', :h, 'TyUi', :now)"
            ),
            {"h": plain, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO tickets (id, subject, requester_email, requester_name, status,"
                " flagged, evidence_strength, challenge_nonce, challenge_expires_at,"
                " created_at, updated_at, version)"
                " VALUES (1, 's', 'old@x.org', '', 'open', false, 'none', 'n', :now, :now,"
                " :now, 1)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO evidence (ticket_id, kind, value, token_hash, created_at)"
                " VALUES (1, 'token', 'hf_…TyUi', :h, :now)"
            ),
            {"h": plain, "now": now},
        )
    command.upgrade(cfg, "head")
    if twice:
        command.downgrade(cfg, "0007")
        command.upgrade(cfg, "head")
    with session_scope(engine) as s:
        assert s.exec(select(AccessToken)).one().token_hash == hash_token(TOKEN)
        assert s.exec(select(Evidence)).one().token_hash == hash_token(TOKEN)
        assert authenticate_token(s, TOKEN, clock=clock).name == "old token"
    engine.dispose()
