"""Single-use recovery codes: 80 random bits each, in Crockford base32 so they read aloud
without ambiguity (no I, L, O, U), stored only as hashes.

Codes carry enough entropy that a fast keyed-by-account SHA-256 is safe, which lets a code
be found by an indexed look-up: checking costs the same with 1 or 1,000 codes stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from core.errors import InvalidCode
from core.store.tables import RecoveryCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
FILE_NAME = "huggingface-recovery-codes.txt"


def generate_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP)).lower()


def normalize_code(code: str) -> str:
    """Case, spaces and dashes do not matter; O/I/L read as 0/1/1."""
    cleaned = re.sub(r"[\s\-_.]", "", code or "").upper().translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        raise InvalidCode("That is not a recovery code (16 characters, e.g. abcd-efgh-jkmn-pqrs).")
    return cleaned


def hash_code(user_id: int, normalized: str) -> str:
    return hashlib.sha256(f"recovery-code:{user_id}:{normalized}".encode()).hexdigest()


def replace_codes(session: Session, *, user_id: int, count: int, now: datetime) -> list[str]:
    """Delete every code of the account and store ``count`` new ones; returns the plaintexts."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [generate_code() for _ in range(count)]
    session.add_all(
        RecoveryCode(
            user_id=user_id, code_hash=hash_code(user_id, normalize_code(c)), created_at=now
        )
        for c in codes
    )
    session.flush()
    return codes


def delete_codes(session: Session, *, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def consume_code(session: Session, *, user_id: int, code: str, now: datetime) -> bool:
    """Mark the code used if it is one of the account's unused codes. A conditional UPDATE,
    so of two concurrent uses exactly one succeeds."""
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id)
        .where(RecoveryCode.code_hash == hash_code(user_id, normalize_code(code)))
        .where(RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def remaining_codes(session: Session, *, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ).one()


def codes_file_text(*, username: str, codes: list[str], generated_at: datetime) -> str:
    """The content of ``huggingface-recovery-codes.txt``."""
    lines = [
        "Hugging Face recovery codes",
        "",
        f"Account:   {username}",
        f"Generated: {generated_at.strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "If you lose access to your authenticator app, sign in with your password, then",
        'choose "Lost access to your two-factor authentication app? Use a recovery code"',
        "and enter one of the codes below. Each code works once. Case, spaces and dashes",
        "do not matter.",
        "",
        "Keep this file somewhere safe and offline (print it, or store it in a password",
        "manager). Anyone with these codes and your password can sign in as you.",
        "Regenerating codes makes every code in this file stop working.",
        "",
        *codes,
        "",
    ]
    return "\n".join(lines)
