"""Fixtures for the portal's ``AppTest`` suite: a SQLite file database only (the portal's
services are tested on PostgreSQL elsewhere), a signed-up user, and a driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test

from core.accounts.users import create_user
from core.store import session_scope
from tests.backoffice.portal.driver import PortalDriver

PASSWORD = "correct horse battery staple"


class ShiftedClock:
    """Real time plus an offset that tests move forward, so each TOTP step is fresh without
    waiting 30 s (replay protection accepts a step once)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def db_url(sqlite_url):
    """Overrides the SQLite/PostgreSQL parametrisation: the AppTest suite runs on SQLite."""
    return sqlite_url


@pytest.fixture
def alice(engine):
    with session_scope(engine) as s:
        user = create_user(s, username="alice", email="alice@example.com", password=PASSWORD)
    return user


@pytest.fixture
def media_storage(monkeypatch) -> MemoryMediaFileStorage:
    """One media store for every run, so a test can read what a download button serves."""
    storage = MemoryMediaFileStorage("/mock/media")
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", lambda _endpoint: storage)
    return storage


@pytest.fixture
def portal(engine, media_storage) -> PortalDriver:
    return PortalDriver(clock=ShiftedClock(), media=media_storage)
