"""The rules of recovery over SSH, without a network: which key names which account, the
password under the throttle, and the code set replaced, audited and emailed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from core.accounts.ssh_keys import add_ssh_key, parse_public_key, revoke_ssh_key
from core.errors import InvalidCredentials, InvalidInput, NotFound, Throttled
from core.recovery import ssh_server
from core.recovery.ssh_service import (
    KeyOwner,
    KeyRefused,
    check_password,
    identify_key,
    replace_recovery_codes,
    session_text,
)
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, SshKey
from core.twofactor import sign_in_password
from core.twofactor.recovery_codes import remaining_codes
from tests.core.twofactor import conftest as twofactor
from tests.core.twofactor.conftest import PASSWORD
from tests.support.ssh import make_key

user = twofactor.user
enrolled = twofactor.enrolled


@pytest.fixture
def alice_key(engine, user, tmp_path, clock):
    pair = make_key(tmp_path)
    with session_scope(engine) as s:
        add_ssh_key(s, user=user, public_key=pair.public_line, clock=clock)
    return parse_public_key(pair.public_line)


def identify(engine, blob: bytes, login: str = "recovery") -> KeyOwner:
    with session_scope(engine, readonly=True) as s:
        return identify_key(s, login=login, key_blob=blob)


def test_a_registered_key_names_its_account(engine, alice_key):
    owner = identify(engine, alice_key.blob)
    assert owner.username == "alice" and owner.fingerprint == alice_key.fingerprint_sha256
    assert identify(engine, alice_key.blob, login="ALICE") == owner


def test_unknown_revoked_and_other_accounts_keys_are_refused(engine, alice_key, tmp_path):
    stranger = parse_public_key(make_key(tmp_path).public_line)
    with pytest.raises(KeyRefused) as unknown:
        identify(engine, stranger.blob)
    with pytest.raises(KeyRefused) as other:
        identify(engine, alice_key.blob, login="bob")
    with session_scope(engine) as s:
        row = s.exec(select(SshKey)).one()
        row.revoked_at = row.created_at
    with pytest.raises(KeyRefused) as revoked:
        identify(engine, alice_key.blob)
    assert (unknown.value.reason, other.value.reason, revoked.value.reason) == (
        "unknown key",
        "key of another account",
        "revoked key",
    )
    assert str(unknown.value) == str(other.value) == str(revoked.value), "one public answer"


def test_password_failures_share_sign_ins_throttle(engine, alice_key, clock):
    """Wrong passwords over SSH count where sign-in's do (per account, per client), are
    committed before the error, and make the portal's sign-in wait too."""
    owner = identify(engine, alice_key.blob)
    for _ in range(6):
        with session_scope(engine) as s, pytest.raises(InvalidCredentials):
            check_password(s, owner=owner, password="guess", client="ssh:192.0.2.7", clock=clock)
    with session_scope(engine) as s, pytest.raises(Throttled):
        check_password(s, owner=owner, password=PASSWORD, client="ssh:192.0.2.7", clock=clock)
    with session_scope(engine) as s, pytest.raises(Throttled):
        sign_in_password(s, login="alice", password=PASSWORD, clock=clock)
    with session_scope(engine, readonly=True) as s:
        failed = s.exec(select(AuditEvent).where(AuditEvent.action == "signin.password_failed"))
        assert {e.details["client"] for e in failed} == {"ssh:192.0.2.7"}
    clock.advance(seconds=2)
    with session_scope(engine) as s:
        check_password(s, owner=owner, password=PASSWORD, client="ssh:192.0.2.7", clock=clock)


def test_codes_replaced_audited_and_emailed(engine, enrolled, alice_key, clock):
    owner = identify(engine, alice_key.blob)
    with session_scope(engine) as s:
        codes = replace_recovery_codes(s, owner=owner, clock=clock)
    assert codes is not None and len(codes.codes) == 16
    assert not set(codes.codes) & set(enrolled.codes)
    with session_scope(engine, readonly=True) as s:
        assert remaining_codes(s, user_id=owner.user_id) == 16
        event = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        mail = s.exec(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert event.action == "2fa.recovery_codes_replaced_over_ssh"
    assert event.details == {"fingerprint": owner.fingerprint, "codes": 16}
    assert mail.to_addr == "alice@example.com" and owner.fingerprint in mail.body_text
    text = session_text(owner, codes)
    assert all(code in text for code in codes.codes) and text.endswith("\r\n")


def test_without_2fa_nothing_changes(engine, alice_key, clock):
    owner = identify(engine, alice_key.blob)
    with session_scope(engine) as s:
        assert replace_recovery_codes(s, owner=owner, clock=clock) is None
    assert "not on for alice" in session_text(owner, None)


class ClosedChannel:
    def sendall(self, data: bytes) -> None:
        raise OSError("Socket is closed")


def test_a_channel_closed_before_the_codes_are_written_changes_nothing(
    engine, enrolled, alice_key, clock, tmp_path
):
    server = ssh_server.RecoveryServer(engine, port=0, host_key_path=tmp_path / "hk", clock=clock)
    try:
        owner = identify(engine, alice_key.blob)
        conn = ssh_server._Connection(peer="test", owner=owner)
        server._replace_and_print(ClosedChannel(), owner, conn)
    finally:
        server.stop()
    assert conn.outcome.startswith("channel closed")
    with session_scope(engine, readonly=True) as s:
        assert remaining_codes(s, user_id=owner.user_id) == 16
        actions = s.exec(select(AuditEvent.action)).all()
    assert "2fa.recovery_codes_replaced_over_ssh" not in actions


def test_the_host_key_is_made_once_0600_and_a_loose_one_is_refused(tmp_path: Path):
    path = tmp_path / "data" / "ssh_host_ed25519_key"
    first = ssh_server.load_or_create_host_key(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert ssh_server.load_or_create_host_key(path).asbytes() == first.asbytes()
    path.chmod(0o644)
    with pytest.raises(ssh_server.SshdUnavailable, match="readable by others"):
        ssh_server.load_or_create_host_key(path)


def test_revoking_a_key_by_either_fingerprint_is_audited_once(engine, user, alice_key, clock):
    with session_scope(engine) as s:
        row = revoke_ssh_key(s, user=user, fingerprint=alice_key.fingerprint_md5, clock=clock)
        assert row.revoked_at == clock()
        again = revoke_ssh_key(s, user=user, fingerprint=alice_key.fingerprint_sha256)
        assert again.revoked_at == clock()
        with pytest.raises(InvalidInput):
            revoke_ssh_key(s, user=user, fingerprint="not a fingerprint")
        with pytest.raises(NotFound):
            revoke_ssh_key(s, user=user, fingerprint="SHA256:" + "A" * 43)
    with session_scope(engine, readonly=True) as s:
        revocations = s.exec(select(AuditEvent).where(AuditEvent.action == "ssh_key.revoked"))
        assert [e.details for e in revocations] == [{"fingerprint": alice_key.fingerprint_sha256}]
    with pytest.raises(KeyRefused):
        identify(engine, alice_key.blob)
