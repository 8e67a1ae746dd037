"""A throw-away PostgreSQL for the suite: one migrated template database, copied per test.

Copying the template takes the server about a fifth of a second, and a third of the
suite's tests run on PostgreSQL: made on demand, the copies were a fifth of the suite's
time. So a thread makes them ahead (``AHEAD`` at a time) while the tests run, and a test
takes one that is ready. Each test still gets its own fresh database, dropped after it."""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import threading
import uuid
from contextlib import suppress

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.store.engine import make_engine, upgrade_schema

TEMPLATE = f"bo_template_{uuid.uuid4().hex[:8]}"
AHEAD = 2
"""Databases kept ready: one for the next test, one being made meanwhile."""
TAKE_TIMEOUT = 120


def server_url() -> str | None:
    return os.environ.get("BACKOFFICE_TEST_DATABASE_URL")


class _Copies:
    """Fresh copies of the template on one server, made ahead by a daemon thread."""

    def __init__(self, url: str) -> None:
        self.base = make_url(url)
        self.admin: Engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.room = threading.Semaphore(AHEAD)
        self.names = (f"bo_test_{os.getpid()}_{n}" for n in itertools.count())
        self.stopping = False
        self._make_template()
        self.thread = threading.Thread(
            target=self._make_ahead, name="pg-test-databases", daemon=True
        )
        self.thread.start()
        atexit.register(self.close)

    def _make_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
        engine = make_engine(self._url(TEMPLATE))
        upgrade_schema(engine)
        engine.dispose()

    def _url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _make_ahead(self) -> None:
        while True:
            self.room.acquire()
            if self.stopping:
                return
            name = next(self.names)
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
            except Exception as exc:  # handed to the test that takes it, which fails with it
                self.ready.put(exc)
                continue
            if self.stopping:  # made while the suite was ending: nobody will take it
                self.drop(self._url(name))
                return
            self.ready.put(name)

    def take(self) -> str:
        """A new database's URL; the thread starts on the next one."""
        made = self.ready.get(timeout=TAKE_TIMEOUT)
        self.room.release()
        if isinstance(made, BaseException):
            raise made
        return self._url(made)

    def drop(self, url: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    def close(self) -> None:
        """At exit: the copies nobody took, and the template, are dropped."""
        self.stopping = True
        self.room.release()
        self.thread.join(timeout=30)  # a copy being made is dropped by the thread itself
        with suppress(Exception), self.admin.connect() as conn:  # the server may be gone by now
            while not self.ready.empty():
                made = self.ready.get_nowait()
                if isinstance(made, str):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
        self.admin.dispose()


_copies: dict[str, _Copies] = {}
_lock = threading.Lock()


def fresh_database_url(url: str) -> str:
    """An empty, migrated database of its own on the server at ``url``: its URL."""
    with _lock:
        if url not in _copies:
            _copies[url] = _Copies(url)
        copies = _copies[url]
    return copies.take()


def drop_database(url: str) -> None:
    server = server_url()
    if not server:
        return
    with _lock:
        copies = _copies.get(server)
    if copies is not None:
        copies.drop(url)
        return
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()
