"""The tables package loads table modules on demand, yet never leaves a foreign key dangling:
a name taken from the package loads them all, and the ORM configuring a table that refers to
others loads those (and what they refer to), no more (a fresh interpreter each, since a test
process has every table loaded already)."""

from __future__ import annotations

import subprocess
import sys

from sqlmodel import SQLModel

from core.store import tables

PROBE = """
import sys
{code}
print(sorted(m.rpartition(".")[2] for m in sys.modules if m.startswith("core.store.tables.")))
"""


def loaded_after(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True, check=True
    )
    return eval(result.stdout)  # noqa: S307  (our own probe's printed list)


def test_the_package_alone_loads_no_table_and_a_name_loads_them_all():
    assert loaded_after("import core.store.tables") == []
    every = loaded_after("from core.store.tables import OutboxEmail")
    assert {"tickets", "accounts", "outbox", "workers"} <= set(every)


def test_a_table_without_foreign_keys_stays_alone_when_the_orm_configures():
    code = "from sqlalchemy.orm import configure_mappers\nimport core.store.tables.outbox\n"
    assert loaded_after(code + "configure_mappers()") == ["outbox"]


def test_a_table_with_foreign_keys_brings_the_tables_it_refers_to():
    code = (
        "from sqlalchemy.orm import configure_mappers\nimport core.store.tables.tickets\n"
        "configure_mappers()\nfrom core.store.tables.tickets import TicketMessage\n"
        "from sqlmodel import SQLModel\n"
        "assert all(fk.column is not None for t in SQLModel.metadata.tables.values()"
        " for fk in t.foreign_keys)\n"
    )
    assert loaded_after(code) == ["accounts", "inbound", "outbox", "tickets"]


def test_a_chain_of_references_is_followed_to_its_end():
    """Pending resets refer to tickets, whose messages refer to stored mail and the outbox."""
    code = "from sqlalchemy.orm import configure_mappers\nimport core.store.tables.pending_resets\n"
    loaded = loaded_after(code + "configure_mappers()")
    assert loaded == ["accounts", "inbound", "outbox", "pending_resets", "tickets"]


def test_every_table_a_foreign_key_points_at_has_its_module_listed():
    """Else the ORM falls back to loading every table for a command that reads one."""
    tables.load_all()
    targets = {
        fk.column.table.name
        for table in SQLModel.metadata.tables.values()
        for fk in table.foreign_keys
    }
    defined_in = {
        mapper.local_table.name: mapper.class_.__module__.rpartition(".")[2]
        for mapper in SQLModel._sa_registry.mappers
    }
    assert {name: defined_in[name] for name in targets} == tables.REFERRED_TABLE_MODULES
