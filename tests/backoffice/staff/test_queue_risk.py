"""Issue #12 item 2: the queue shows the risk. A ticket whose sender is not the account's
email carries its recommendation (review first) and flags in its row, can be filtered on
both, the per-status counts follow the filters, and filters and page survive opening a
ticket and coming back."""

from __future__ import annotations

import pytest

from core.inbound import ingest_bytes
from core.store import session_scope
from core.store.tables import Ticket
from core.verification import verify_ticket
from tests.backoffice.staff.conftest import recovery_email, sign_in


@pytest.fixture
def risky_ticket(world) -> int:
    """Alice's valid token, sent from an address that is not alice's."""
    body = f"Username: alice\nMy token is {world.token}\n"
    with session_scope(world.engine) as s:
        outcome = ingest_bytes(
            s, recovery_email("mallory@example.net", body, "<m3@example.net>"), source="test"
        )
    with session_scope(world.engine) as s:
        verify_ticket(s, s.get(Ticket, outcome.ticket_id), clock=world.clock)
    return outcome.ticket_id


def table(at) -> list[dict]:
    return at.dataframe[0].value.to_dict("records") if at.dataframe else []


def row(at, ticket_id: int) -> dict:
    return next(r for r in table(at) if r["#"] == ticket_id)


def test_a_risky_strong_ticket_does_not_look_clean(world, risky_ticket):
    at = sign_in(world, "ann")
    clean, risky = row(at, world.strong_ticket), row(at, risky_ticket)
    assert (clean["Evidence"], clean["Recommendation"], clean["Flags"]) == ("Strong", "Approve", "")
    assert (risky["Evidence"], risky["Recommendation"]) == ("Strong", "Review first")
    assert "Sender address is not the account's email on file." in risky["Flags"]


def test_filter_on_recommendation_and_flags(world, risky_ticket):
    at = sign_in(world, "ann")
    at.multiselect(key="q_recommendation").select("review").run()
    assert [r["#"] for r in table(at)] == [risky_ticket]
    at.multiselect(key="q_recommendation").unselect("review").run()
    at.toggle(key="q_flagged").set_value(True).run()
    flagged = [r["#"] for r in table(at)]
    assert risky_ticket in flagged and world.strong_ticket not in flagged


def test_status_counts_follow_the_filters(world, risky_ticket):
    at = sign_in(world, "ann")
    counts = {m.label: m.value for m in at.metric}
    assert counts["New"] == "3"
    at.text_input(key="q_search").input("carol").run()
    counts = {m.label: m.value for m in at.metric}
    assert counts["New"] == "1" and counts["Approved"] == "0"


def test_filters_and_page_survive_opening_a_ticket(world, risky_ticket):
    at = sign_in(world, "ann")
    at.multiselect(key="q_evidence").select("strong").run()
    at.text_input(key="q_search").input("alice").run()
    shown = [r["#"] for r in table(at)]
    assert shown == [world.strong_ticket, risky_ticket]
    at.session_state["queue_table_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value.startswith(f"#{risky_ticket} · ")
    at.switch_page("views/queue.py").run()
    assert at.title[0].value == "Queue"
    assert at.text_input(key="q_search").value == "alice"
    assert list(at.multiselect(key="q_evidence").value) == ["strong"]
    assert [r["#"] for r in table(at)] == shown


def test_risk_filters_in_sql_on_both_databases(engine):
    """The recommendation and flag filters are SQL over the latest stored report."""
    from core.accounts.users import create_user
    from core.tickets.queue import QueueFilter, queue_page

    with session_scope(engine) as s:
        create_user(s, username="alice", email="alice@example.org", password="pw " * 4)
    ids = {}
    with session_scope(engine) as s:
        for sender, n in (("alice@example.org", 1), ("mallory@example.net", 2)):
            mail = recovery_email(sender, "Username: alice\n", f"<r{n}@example.org>")
            ids[sender] = ingest_bytes(s, mail, source="test").ticket_id
    with session_scope(engine) as s:
        for ticket_id in ids.values():
            verify_ticket(s, s.get(Ticket, ticket_id))
    with session_scope(engine, readonly=True) as s:
        flagged = queue_page(s, QueueFilter(flagged_only=True))
        asked = queue_page(s, QueueFilter(recommendations=("request_more_information",)))
    assert [r.id for r in flagged.rows] == [ids["mallory@example.net"]]
    assert flagged.status_counts["new"].value == 1
    assert {r.id for r in asked.rows} == set(ids.values())
