"""The RT corpus: 27 real messages that broke real parsers."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import SQLModel

from core.inbound import ingest_messages
from core.inbound.sources import path_messages
from core.store import session_scope
from core.store.tables import InboundMessage
from tests.conftest import CORPUS_DIR, require_corpus


def _row_counts(engine) -> dict[str, int]:
    with session_scope(engine, readonly=True) as s:
        return {
            t.name: s.execute(select(func.count()).select_from(t)).scalar()
            for t in SQLModel.metadata.sorted_tables
        }


def test_corpus_ingests_every_message_once(engine, clock):
    require_corpus()
    files = sorted(CORPUS_DIR.iterdir())
    assert len(files) == 27
    errors: list[str] = []
    report = ingest_messages(engine, path_messages([CORPUS_DIR], errors), clock=clock)
    assert errors == []
    assert report.seen == 27 and report.balanced, report.summary()
    assert report.new_tickets >= 20
    assert report.bounces == 1  # multipart-report
    assert report.quarantined == 1  # lorem-ipsum has no sender
    with session_scope(engine, readonly=True) as s:
        rows = list(s.exec(select(InboundMessage)).scalars())
    assert sorted(r.source.rsplit("/", 1)[1] for r in rows) == [f.name for f in files]
    assert all(r.status != "pending" and r.processed_at for r in rows)
    by_name = {r.source.rsplit("/", 1)[1]: r for r in rows}
    assert by_name["lorem-ipsum"].status == "quarantined"
    assert by_name["lorem-ipsum"].raw == (CORPUS_DIR / "lorem-ipsum").read_bytes()
    assert by_name["multipart-report"].status == "bounce"
    assert by_name["8859-15-message-series__dir"].status == "auto"  # Precedence: bulk

    before = _row_counts(engine)
    again = ingest_messages(engine, path_messages([CORPUS_DIR]), clock=clock)
    assert (again.seen, again.duplicates, again.balanced) == (27, 27, True)
    assert _row_counts(engine) == before
