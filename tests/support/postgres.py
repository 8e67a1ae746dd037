"""A throw-away PostgreSQL for the suite: one migrated template database, copied per test."""

from __future__ import annotations

import itertools
import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.store.engine import make_engine, upgrade_schema

TEMPLATE = f"bo_template_{uuid.uuid4().hex[:8]}"
_counter = itertools.count()
_template_ready = False


def server_url() -> str | None:
    return os.environ.get("BACKOFFICE_TEST_DATABASE_URL")


def _admin_engine(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def fresh_database_url(url: str) -> str:
    """Create an empty, migrated database on the server at ``url`` and return its URL."""
    global _template_ready
    admin = _admin_engine(url)
    base = make_url(url)
    try:
        with admin.connect() as conn:
            if not _template_ready:
                conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
                template_engine = make_engine(
                    base.set(database=TEMPLATE).render_as_string(hide_password=False)
                )
                upgrade_schema(template_engine)
                template_engine.dispose()
                _template_ready = True
            name = f"bo_test_{os.getpid()}_{next(_counter)}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    server = server_url()
    if not server:
        return
    admin = _admin_engine(server)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()
