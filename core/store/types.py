"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC ``datetime`` (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """SQLite stores a formatted string, and formatting one is most of the cost of
        binding a datetime; a batch binds the same instants many times (its rows share
        ``created_at``, ``challenge_expires_at``...), so recent results are remembered.
        Keys are aware datetimes: equal instants make equal UTC strings."""
        process = super().bind_processor(dialect)
        if process is None or dialect.name != "sqlite":
            return process
        remembered = lru_cache(maxsize=1024)(process)

        def bind(value: datetime | None) -> object:
            if value is None or value.tzinfo is None:
                return process(value)  # None, or the naive datetime's error
            return remembered(value)

        return bind

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
