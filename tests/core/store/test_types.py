"""UTCDateTime on both databases: aware datetimes stored as their UTC instant and read back
aware in UTC, naive ones refused, and the bind cache never mixes two instants up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from core.store.types import UTCDateTime

TIMES = Table(
    "test_times",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime()),
)


def test_instants_round_trip_in_utc_and_naive_ones_are_refused(engine):
    TIMES.create(engine)
    noon = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)
    paris = noon.astimezone(timezone(timedelta(hours=1)))
    later = noon + timedelta(microseconds=1)
    rows = [{"at": t} for t in (noon, paris, later, noon, None, later)]
    with engine.begin() as conn:
        conn.execute(insert(TIMES), rows)
        stored = list(conn.execute(select(TIMES.c.at).order_by(TIMES.c.id)).scalars())
        with pytest.raises(StatementError, match="naive datetime"):
            conn.execute(insert(TIMES), [{"at": datetime(2026, 11, 28, 12, 0)}])
    assert stored == [noon, noon, later, noon, None, later]
    assert all(t is None or t.tzinfo == UTC for t in stored)
