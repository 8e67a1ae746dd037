"""The store's typed error: the database cannot be used as configured. It is a
``DomainError`` so every face shows it as one line, as it shows any domain error."""

from __future__ import annotations

from core.errors import DomainError


class DatabaseUnavailable(DomainError):
    """The database URL is unusable, or the database cannot be reached, opened or read;
    ``str`` names what and where in one line, never with a password."""
