"""Personal access tokens: format, shown once, stored hashed, revocable, last use recorded."""

from __future__ import annotations

from sqlmodel import select

from core.accounts.tokens import (
    TOKEN_RE,
    authenticate_token,
    issue_token,
    redact_tokens,
    revoke_token,
)
from core.accounts.users import create_user
from core.store import session_scope
from core.store.tables import AccessToken, AuditEvent


def test_issue_authenticate_revoke(engine, clock):
    with session_scope(engine) as s:
        user = create_user(
            s, username="alice", email="a@example.com", password="password-a", clock=clock
        )
        issued = issue_token(s, user=user, name="laptop", clock=clock)
    assert TOKEN_RE.fullmatch(issued.plaintext) and len(issued.plaintext) == 37
    with session_scope(engine) as s:
        row = s.exec(select(AccessToken)).one()
        assert row.last4 == issued.plaintext[-4:]
        assert issued.plaintext not in (row.token_hash, row.name)
        assert row.last_used_at is None
    clock.advance(minutes=5)
    with session_scope(engine) as s:
        assert authenticate_token(s, issued.plaintext, clock=clock).id == row.id
    with session_scope(engine) as s:
        assert s.get(AccessToken, row.id).last_used_at == clock()
        revoke_token(s, user=user, token_id=row.id, clock=clock)
    with session_scope(engine) as s:
        assert authenticate_token(s, issued.plaintext, clock=clock) is None
        assert authenticate_token(s, "hf_" + "a" * 34, clock=clock) is None
        actions = s.exec(select(AuditEvent.action)).all()
        assert "token.issued" in actions and "token.revoked" in actions


def test_redaction_keeps_only_the_last_four():
    token = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"
    assert redact_tokens(f"my token is {token}.") == "my token is hf_…EfGh."
