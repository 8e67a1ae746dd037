"""How a face opens a unit of work on the configured database without knowing the store:
``with unit_of_work() as s: service(s, ...)`` commits on success and rolls back on error;
``readonly=True`` never writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from core.store import get_engine, session_scope


@contextmanager
def unit_of_work(*, readonly: bool = False) -> Iterator[Session]:
    with session_scope(get_engine(), readonly=readonly) as session:
        yield session
