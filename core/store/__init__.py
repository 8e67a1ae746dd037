"""The floor of the house: tables, engines, sessions and migrations. Imports no service."""

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
