"""SSH public keys and fingerprints quoted in a ticket, matched against registered keys.
Knowing a public key proves nothing about the private key, so a match is only weak."""

from __future__ import annotations

from sqlmodel import Session, select

from core.accounts.ssh_keys import normalize_fingerprint, parse_public_key
from core.errors import MalformedPublicKey
from core.store.tables import Evidence, SshKey, User
from core.verification.report import Check


def _fingerprint_of(evidence: Evidence) -> str | None:
    if evidence.kind == "ssh_public_key":
        try:
            return parse_public_key(evidence.value).fingerprint_sha256
        except MalformedPublicKey:
            return normalize_fingerprint(evidence.fingerprint or "")
    return normalize_fingerprint(evidence.value) or normalize_fingerprint(
        evidence.fingerprint or ""
    )


def registered_key(session: Session, fingerprint: str) -> SshKey | None:
    """The key registered (on any account) under a SHA256 or MD5 fingerprint."""
    column = SshKey.fingerprint_md5 if fingerprint.startswith("MD5:") else SshKey.fingerprint_sha256
    return session.exec(select(SshKey).where(column == fingerprint)).first()


def check_public_key(session: Session, evidence: Evidence, user: User) -> tuple[Check, int | None]:
    """The check for one ``ssh_public_key`` or ``fingerprint`` evidence row, and the id of
    another account the key is registered on (None when it is not)."""
    what = "public key" if evidence.kind == "ssh_public_key" else "fingerprint"
    fingerprint = _fingerprint_of(evidence)
    if fingerprint is None:
        return Check(evidence.kind, "fail", f"The {what} cannot be read.", evidence.id), None
    key = registered_key(session, fingerprint)
    if key is None:
        reason = f"The {what} {fingerprint} is not registered on any account."
        return Check(evidence.kind, "fail", reason, evidence.id), None
    if key.user_id != user.id:
        reason = f"The {what} {fingerprint} is registered on another account."
        return Check(evidence.kind, "fail", reason, evidence.id), key.user_id
    if key.revoked_at is not None:
        reason = f"The {what} {fingerprint} was revoked on this account: it proves nothing."
        return Check(evidence.kind, "fail", reason, evidence.id), None
    reason = f"The {what} {fingerprint} matches a registered key (public material only)."
    return Check(evidence.kind, "weak", reason, evidence.id), None
