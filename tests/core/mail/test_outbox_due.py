"""``nothing_due`` lets ``outbox send`` skip the sender only when the sender's own claim would
take nothing: both are asked about the same rows, on SQLite and PostgreSQL, at the edges of
``next_attempt_at`` and ``claimed_until`` down to the microsecond. Whatever it cannot judge
(a missing file, a schema to upgrade, a damaged file, a server away) counts as "maybe due"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from core.mail.outbox_due import nothing_due
from core.mail.sender import OutboxSender
from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.core.mail.conftest import queue_many

MICROSECOND = timedelta(microseconds=1)
# (status, next_attempt_at - now, claimed_until - now)
ROWS = {
    "queued, due a second ago": ("queued", -timedelta(seconds=1), None),
    "queued, due this microsecond": ("queued", timedelta(0), None),
    "queued, due in a microsecond": ("queued", MICROSECOND, None),
    "queued, due in an hour": ("queued", timedelta(hours=1), None),
    "sending, lease ran out a microsecond ago": ("sending", -timedelta(hours=1), -MICROSECOND),
    "sending, lease runs out now": ("sending", -timedelta(hours=1), timedelta(0)),
    "sending, lease held": ("sending", -timedelta(hours=1), timedelta(seconds=10)),
    "sent": ("sent", -timedelta(hours=1), None),
    "failed": ("failed", -timedelta(hours=1), None),
}


def test_the_probe_and_the_claim_agree_on_every_row(engine, db_url, clock):
    assert nothing_due(db_url, clock())  # an empty outbox
    (message_id,) = queue_many(engine, clock, 1)
    sender = OutboxSender(engine, clock=clock)
    due = {}
    for label, (status, attempt_in, lease_in) in ROWS.items():
        with session_scope(engine) as s:
            s.execute(
                update(OutboxEmail)
                .where(OutboxEmail.message_id == message_id)
                .values(
                    status=status,
                    next_attempt_at=clock() + attempt_in,
                    claimed_until=None if lease_in is None else clock() + lease_in,
                    claimed_by=None,
                )
            )
        due[label] = not nothing_due(db_url, clock())
        claimed = bool(sender._claim(10))
        assert due[label] == claimed, label
    assert {label for label, d in due.items() if d} == {
        "queued, due a second ago",
        "queued, due this microsecond",
        "sending, lease ran out a microsecond ago",
    }


def test_a_database_behind_this_code_is_left_to_the_sender(engine, db_url, clock):
    with session_scope(engine) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not nothing_due(db_url, clock())
    with session_scope(engine) as s:
        s.execute(text("DROP TABLE alembic_version"))
    assert not nothing_due(db_url, clock())


def test_a_database_ahead_of_this_code_is_left_to_the_sender(engine, db_url, clock):
    """The sender then says it leaves the newer schema alone (rolling deploy)."""
    with session_scope(engine) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '9999_newer_release'"))
    assert not nothing_due(db_url, clock())


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///{tmp}/absent.db",
        "sqlite:///{tmp}/damaged.db",
        "sqlite:///{tmp}/empty.db",
        "sqlite:///{tmp}/migrated.db?mode=ro",
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "mysql://nobody@127.0.0.1/none",
        "not a url",
    ],
)
def test_what_it_cannot_judge_is_maybe_due(url, tmp_path, clock):
    (tmp_path / "damaged.db").write_bytes(b"this is not SQLite at all\n" * 200)
    (tmp_path / "empty.db").write_bytes(b"")
    url = url.format(tmp=tmp_path)
    assert not nothing_due(url, clock())
    assert not (tmp_path / "absent.db").exists()  # the sender's path creates it, not this


def test_it_opens_the_file_sqlalchemy_would(tmp_path, clock, monkeypatch):
    """Relative paths (from the working folder) and percent-escapes read as SQLAlchemy does."""
    from core.store.engine import make_engine, upgrade_schema

    folder = tmp_path / "a b"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder}/out box.db")
    upgrade_schema(engine)
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    assert nothing_due("sqlite:///a%20b/out%20box.db", clock())
    assert nothing_due(f"sqlite+pysqlite:///{folder}/out box.db", clock())
