"""Typed domain errors. Faces turn any ``DomainError`` into one readable line (CLI: exit 1)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the message to show."""


class NotFound(DomainError):
    pass


class UnknownUser(NotFound):
    def __init__(self, login: str) -> None:
        super().__init__(f"No account matches {login!r}.")


class AlreadyExists(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class InvalidCredentials(DomainError):
    def __init__(self) -> None:
        super().__init__("Wrong username/email or password.")


class InvalidCode(DomainError):
    pass


class Throttled(DomainError):
    def __init__(self, retry_after_seconds: int, locked: bool = False) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.locked = locked
        what = "locked after too many failed codes" if locked else "throttled after failed codes"
        super().__init__(f"This account is {what}; try again in {retry_after_seconds} s.")


class MalformedPublicKey(InvalidInput):
    pass


class TwoFactorStateError(DomainError):
    """The account's 2FA is not in the state the operation needs (e.g. already on)."""
