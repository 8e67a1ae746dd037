"""The floor of the house: tables, engines, sessions and migrations. Imports no service.
Its names load on first use, so the modules that need no SQLAlchemy (``revisions``,
``probe``: a cron command's start-up check) cost no more than themselves."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import tables
    from core.store.engine import (
        dispose_engines,
        get_engine,
        make_engine,
        session_scope,
        upgrade_schema,
    )

__all__ = [
    "dispose_engines",
    "get_engine",
    "make_engine",
    "session_scope",
    "tables",
    "upgrade_schema",
]


def __getattr__(name: str) -> Any:
    if name == "tables":
        return importlib.import_module("core.store.tables")
    if name in __all__:
        return getattr(importlib.import_module("core.store.engine"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
