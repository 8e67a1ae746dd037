"""The migrations build exactly the schema the tables describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect, select, table
from sqlmodel import SQLModel

import core.store.tables  # noqa: F401  (registers every table)
from core.store.engine import (
    alembic_config,
    get_engine,
    make_engine,
    session_scope,
    upgrade_schema,
)
from core.store.tables import Evidence, OutboxEmail, Ticket
from tests.core.stats.test_summaries import assert_in_step
from tests.support.outbox_mail import delivered_text


def test_migrated_schema_matches_the_tables(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_creates_every_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    upgrade_schema(engine)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_wal(sqlite_url):
    engine = get_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_summaries_stay_exact_across_a_downgrade_and_upgrade_of_0004(engine, clock):
    """0004 changes how PostgreSQL keeps the Ops summaries (per statement); counts made by
    0003's triggers and by 0004's add up either way, and the downgrade restores 0003."""

    def add_tickets(first_day: int, earlier: tuple[int, ...] = ()) -> tuple[int, ...]:
        """12 tickets with evidence; the earlier tickets get more (some of a kind they had)."""
        rows = [
            {
                "subject": "s",
                "requester_email": f"r{i}@example.org",
                "status": ("new", "approved")[i % 2],
                "evidence_strength": ("none", "strong")[i % 2],
                "challenge_nonce": f"n{first_day}-{i}",
                "challenge_expires_at": clock(),
                "created_at": clock() - timedelta(days=first_day + i % 3),
                "updated_at": clock(),
                "first_response_at": clock() if i % 2 else None,
            }
            for i in range(12)
        ]
        tickets, evidence = Ticket.__table__, Evidence.__table__
        with session_scope(engine) as s:  # multi-row statements: RETURNING asks for them
            ids = list(s.execute(insert(tickets).returning(tickets.c.id), rows).scalars())
            s.execute(
                insert(evidence).returning(evidence.c.id),
                [
                    {"ticket_id": t, "kind": kind, "value": "x", "created_at": clock()}
                    for t in ids
                    for kind in ("token", "fingerprint", "token")[: 1 + t % 3]
                ]
                + [
                    {"ticket_id": t, "kind": kind, "value": "y", "created_at": clock()}
                    for t in earlier
                    for kind in ("token", "ssh_signature")
                ],
            )
        return tuple(ids)

    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.commit()
    first = add_tickets(first_day=10)
    assert_in_step(engine)
    upgrade_schema(engine)
    add_tickets(first_day=1, earlier=first)
    assert_in_step(engine)


def test_0017_seals_the_links_queued_before_it_and_opens_them_going_down(engine, clock):
    """A password-reset email queued by the previous release holds its link in the clear;
    the upgrade encrypts it (the sender still delivers the link), the downgrade restores
    the clear text the older code reads."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
        conn.commit()
    link = "http://localhost:8502/forgot-password?token=queued-before-0017"
    values = {
        "message_id": "<before-0017@example.org>",
        "template": "password_reset_link",
        "to_addr": "alice@example.org",
        "subject": "Reset your password",
        "body_text": f"Open {link}\n",
        "body_html": f'<a href="{link}">{link}</a>',
        "headers": {},
        "status": "queued",
        "attempts": 0,
        "created_at": clock(),
        "next_attempt_at": clock(),
    }
    current = OutboxEmail.__table__.c
    outbox = table("outbox_emails", *(column(name, current[name].type) for name in values))
    with engine.begin() as conn:
        conn.execute(insert(outbox).values(values))
    upgrade_schema(engine)
    with session_scope(engine, readonly=True) as s:
        row = s.scalars(select(OutboxEmail)).one()
        assert row.sealed and link not in row.body_text + row.body_html
        assert link in delivered_text(row)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
        conn.commit()
        assert conn.execute(select(outbox.c.body_text)).scalar_one() == values["body_text"]
    upgrade_schema(engine)
