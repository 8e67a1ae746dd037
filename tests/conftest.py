"""Fixtures every test shares: isolated settings, a fresh database, a pinned clock.

Database-backed tests run on SQLite, and on PostgreSQL too when
``BACKOFFICE_TEST_DATABASE_URL`` names a server (``.ci/run`` starts one). Under CI a missing
server is a failure, not a skip.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.clock import FrozenClock
from core.settings import get_settings
from core.store.engine import dispose_engines, make_engine, upgrade_schema
from tests.support import postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = PROJECT_ROOT.parent / "shared" / "corpus" / "rt-emails"
IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when a real server or tool is missing; under CI, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def require_corpus() -> None:
    require(CORPUS_DIR.is_dir(), f"the RT corpus is missing at {CORPUS_DIR}")


def corpus_bytes(name: str) -> bytes:
    """One message of the RT corpus (``../shared/corpus``), or a skip saying it is missing."""
    require_corpus()
    return (CORPUS_DIR / name).read_bytes()


def corpus_paths() -> list:
    """The corpus files as test parameters; when the corpus is missing, one placeholder
    (None) whose test must call ``require_corpus`` and so skips, or fails under CI."""
    if not CORPUS_DIR.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(p, id=p.name) for p in sorted(CORPUS_DIR.iterdir())]


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data folder and secret key; nothing leaks between tests."""
    for name in list(os.environ):
        if name.startswith("BACKOFFICE_") and name != "BACKOFFICE_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", Fernet.generate_key().decode())
    # Decisions reset at approval and one person approves weak evidence unless a test says
    # otherwise (tests/core/decisions/test_pending_resets.py, test_two_person.py).
    monkeypatch.setenv("BACKOFFICE_RESET_COOLING_OFF_HOURS", "0")
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "false")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, migrated database URL: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield migrated_sqlite_url(tmp_path / "test.db")
        return
    server = postgres.server_url()
    require(server is not None, "no PostgreSQL: set BACKOFFICE_TEST_DATABASE_URL")
    url = postgres.fresh_database_url(server)
    yield url
    dispose_engines()
    postgres.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite database only, for tests about the embedded default itself."""
    return migrated_sqlite_url(tmp_path / "test.db")


@cache
def _migrated_sqlite_file() -> Path:
    """One SQLite file migrated to head, made once per run (removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="bo-sqlite-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    engine = make_engine(f"sqlite:///{folder / 'template.db'}")
    upgrade_schema(engine)
    engine.dispose()
    return folder / "template.db"


def migrated_sqlite_url(path: Path) -> str:
    """A new SQLite database at ``path``, migrated to head: a copy of one migrated file
    (running the migrations took ~80 ms a test, on a third of the suite's tests)."""
    shutil.copyfile(_migrated_sqlite_file(), path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url, monkeypatch):
    """The engine for ``db_url``; also made the default so faces and CLIs use it."""
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock():
    return FrozenClock(datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC))
