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


class WrongPassword(InvalidCredentials):
    """The signed-in user's own password, asked again to confirm a change, is wrong (the
    username is not in question, so the message says only that)."""

    def __init__(self, message: str = "Wrong password.") -> None:
        DomainError.__init__(self, message)


class InvalidCode(DomainError):
    pass


class Throttled(DomainError):
    """Too many failures: ``who`` must wait. The password step says "Sign-in" rather than
    "This account": the wait may be the client's (one address guessing over many
    accounts), and the answer must not say which."""

    def __init__(
        self,
        retry_after_seconds: int,
        locked: bool = False,
        what: str = "codes",
        who: str = "This account",
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.locked = locked
        state = "locked after too many failed" if locked else "throttled after failed"
        super().__init__(f"{who} is {state} {what}; try again in {retry_after_seconds} s.")


class Forbidden(DomainError):
    """The acting staff member is unknown, deactivated, lacks the role the action needs, or
    is the same person as the one whose confirmation a two-person action waits for."""


class MalformedPublicKey(InvalidInput):
    pass


class TwoFactorStateError(DomainError):
    """The account's 2FA is not in the state the operation needs (e.g. already on)."""


class TicketLocked(DomainError):
    """Another staff member holds the ticket's lease; only they can act on it until it ends."""

    def __init__(self, ticket_id: int, assignee: str, lease_until: str) -> None:
        self.ticket_id = ticket_id
        self.assignee = assignee
        super().__init__(f"Ticket #{ticket_id} is being handled by {assignee} until {lease_until}.")


class TicketAlreadyDecided(DomainError):
    """The ticket is approved, denied or closed; a decision is final."""

    def __init__(self, ticket_id: int, status: str) -> None:
        self.ticket_id = ticket_id
        self.status = status
        super().__init__(f"Ticket #{ticket_id} is already {status}; it cannot be decided again.")


class TicketChanged(DomainError):
    """The ticket changed (new mail, another decision) since the caller read it."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"Ticket #{ticket_id} changed meanwhile; reload it and decide again.")


class InsufficientEvidence(DomainError):
    """Approval needs strong evidence, or weak evidence with a recorded override reason."""


class HeaderInjection(InvalidInput):
    """A value meant for one email header holds a line break or is not one address."""


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt with the configured key (wrong or rotated key).
    Here, not in ``core.encryption``, so code that only handles it need not load the
    cryptography library."""
