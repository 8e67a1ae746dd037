"""The migration revisions this code knows, read from the files' ``revision`` and
``down_revision`` lines, and what a database's ``alembic_version`` rows mean against them.
Kept apart from the engine so a start-up probe can judge the schema without importing
SQLAlchemy or Alembic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CURRENT, BEHIND, AHEAD = "current", "behind", "ahead"
_REVISION_RE = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([^'\"]+)['\"]", re.M)


@cache
def _migration_files() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision this code knows and its heads (cheap next to loading Alembic's script
    machinery)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_RE.findall(path.read_text()):
            (revisions if name == "revision" else parents).add(value)
    return frozenset(revisions), frozenset(revisions - parents)


def head_revisions() -> frozenset[str]:
    return _migration_files()[1]


def state_of(versions: Iterable[str] | None) -> str:
    """``current`` (the rows name this code's newest migration), ``behind`` (no
    ``alembic_version`` table, given as None, or an older revision: upgrade) or ``ahead`` (a
    revision this code does not know: a newer release migrated it)."""
    if versions is None:
        return BEHIND
    current = set(versions)
    known, heads = _migration_files()
    if current == heads:
        return CURRENT
    return AHEAD if current - known else BEHIND
