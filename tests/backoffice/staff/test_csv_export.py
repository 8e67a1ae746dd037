"""Issue #10 item 6: CSV exports never carry a spreadsheet formula. The grid's own export
(which would write a mail subject such as ``=HYPERLINK(...)`` as a formula) is switched off,
and the pages' CSV downloads neutralise every cell starting with = + - @ tab or CR."""

from __future__ import annotations

import csv
import io

import pytest
import streamlit as st

from core.csv_export import FORMULA_STARTS, rows_to_csv, safe_cell
from core.inbound import ingest_bytes
from core.store import session_scope
from tests.backoffice.staff.conftest import downloaded, sign_in
from tests.backoffice.staff.hostile_ticket import SUBJECT, hostile_email


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_formula_cells_become_text(start):
    cell = f"{start}1+1"
    assert safe_cell(cell) == "'" + cell
    parsed = list(csv.reader(io.StringIO(rows_to_csv([{"a": cell, "n": -3}]))))
    assert parsed == [["a", "n"], ["'" + cell, "-3"]], "numbers stay numbers"


def test_plain_cells_are_unchanged():
    assert [safe_cell(v) for v in ("alice", "#12", 5, None)] == ["alice", "#12", 5, ""]


def test_queue_and_outbox_downloads_are_neutralised(world, media_storage):
    with session_scope(world.engine) as s:
        ingest_bytes(s, hostile_email(), source="test")
    at = sign_in(world, "ada")
    assert st.get_option("client.disableDataExport") is True, "the grid's own CSV is off"
    rows = list(csv.DictReader(io.StringIO(downloaded(at, media_storage, "q_csv").decode())))
    assert "'" + SUBJECT in [r["Subject"] for r in rows]
    assert not any(v.startswith(FORMULA_STARTS) for r in rows for v in r.values())

    at.switch_page("views/mail.py").run()
    rows = list(csv.DictReader(io.StringIO(downloaded(at, media_storage, "m_csv").decode())))
    assert rows and not any(v.startswith(FORMULA_STARTS) for r in rows for v in r.values())
