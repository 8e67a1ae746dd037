"""The queue: open tickets oldest first with their risk in view (recommendation, flags),
filters, search, paging and counts per status that follow the filters. Every figure comes
from indexed SQL (``core.tickets.queue``); selecting a row opens the ticket, and the filters
and page are still there on the way back."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import format, state
from core.csv_export import rows_to_csv
from core.tickets.queue import UNASSIGNED, QueueFilter, queue_page
from core.tickets.status import OPEN, TicketStatus
from core.verification.outcome import Recommendation, Strength

PAGE_SIZE = 50
TABLE_GENERATION = "q_table_generation"
ASSIGNEE_CHOICES = {"Anyone": None, "Unassigned": UNASSIGNED, "Me": "me"}


def open_ticket(ticket_id: int) -> None:
    """Open the ticket; the table gets a fresh key, so its row selection does not reopen the
    ticket when the agent comes back to the queue."""
    st.session_state[TABLE_GENERATION] = st.session_state.get(TABLE_GENERATION, 0) + 1
    st.switch_page("views/ticket.py", query_params={"ticket": str(ticket_id)})


def recommendation_label(value: str | None) -> str:
    return Recommendation(value).label if value else format.NOTHING


staff = state.current_staff()
st.title("Queue")
# Defaults go into the session state (not the widgets), which also keeps them across pages.
st.session_state.setdefault("q_status", list(OPEN))
st.session_state.setdefault("q_older", 0)

with st.container(horizontal=True):
    statuses = st.multiselect(
        "Status",
        list(TicketStatus),
        format_func=lambda s: TicketStatus(s).label,
        key="q_status",
        help="Empty means every status.",
    )
    recommendations = st.multiselect(
        "Recommendation",
        list(Recommendation),
        format_func=lambda r: Recommendation(r).label,
        key="q_recommendation",
        help="What verification recommends; empty means any.",
    )
    evidence = st.multiselect(
        "Evidence",
        list(Strength),
        format_func=lambda s: Strength(s).label,
        key="q_evidence",
        help="Empty means any.",
    )
    assignee_label = st.selectbox("Assignee", list(ASSIGNEE_CHOICES), key="q_assignee")
    older = st.number_input(
        "Older than (hours)", min_value=0, step=1, key="q_older", help="0 means any age."
    )
    search = st.text_input(
        "Search", key="q_search", placeholder="#123, username or email", help="Exact match."
    )
flagged_only = st.toggle(
    "Flagged only",
    key="q_flagged",
    help="Tickets with a reason for a closer look: a sender who is not the account's email, "
    "evidence for another account, a reply from someone else.",
)

assignee = ASSIGNEE_CHOICES[assignee_label]
if assignee == "me":
    assignee = staff.username
flt = QueueFilter(
    statuses=tuple(statuses),
    evidence=tuple(evidence),
    assignee=assignee,
    older_than_hours=float(older) or None,
    search=search,
    recommendations=tuple(recommendations),
    flagged_only=flagged_only,
)
page_number = int(st.session_state.get("q_page", 1))
with state.db(readonly=True) as s:
    result = queue_page(s, flt, page=page_number, page_size=PAGE_SIZE, clock=state.clock())

with st.container(horizontal=True):
    for status, count in result.status_counts.items():
        st.metric(TicketStatus(status).label, str(count))
st.caption(
    f"{result.total} matching · page {result.page} of {result.pages} · oldest first. "
    "The counts above follow every filter but Status. Select a row to open the ticket."
)

rows = [
    {
        "#": r.id,
        "Status": TicketStatus(r.status).label,
        "Age": format.age(r.age),
        "Requester": r.requester,
        "Account": format.text(r.claimed_account),
        "Evidence": Strength(r.evidence_strength).label,
        "Recommendation": recommendation_label(r.recommendation),
        "Flags": "⚑ " + " · ".join(r.flags) if r.flags else "",
        "Assignee": format.text(r.assignee),
        "Subject": r.subject,
    }
    for r in result.rows
]
if rows:
    table = st.container(key="queue_rows")
    event = table.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"queue_table_{st.session_state.get(TABLE_GENERATION, 0)}",
        width="stretch",
        column_config={
            "#": st.column_config.NumberColumn(format="%d", width=45),
            "Status": st.column_config.TextColumn(width=95),
            "Age": st.column_config.TextColumn(width=55),
            "Requester": st.column_config.TextColumn(width=150),
            "Account": st.column_config.TextColumn(width=70),
            "Evidence": st.column_config.TextColumn(width=60),
            "Recommendation": st.column_config.TextColumn(width=100),
            "Flags": st.column_config.TextColumn(width=150),
            "Assignee": st.column_config.TextColumn(width=65),
            "Subject": st.column_config.TextColumn(width=105),
        },
    )
    if event.selection.rows:
        open_ticket(rows[event.selection.rows[0]]["#"])
    st.download_button(
        "Download this page as CSV",
        rows_to_csv(rows),
        file_name=f"queue-page-{result.page}.csv",
        mime="text/csv",
        key="q_csv",
        help="Cells that a spreadsheet would run as a formula are written as text.",
    )
elif (
    result.total.value == 0
    and not any(
        (flt.evidence, flt.search, flt.recommendations, flt.flagged_only, flt.older_than_hours)
    )
    and assignee is None
):
    st.info(
        "No tickets in these statuses. New recovery emails become tickets as they are "
        "ingested; clear Status to see every ticket."
    )
else:
    st.info(
        "No ticket matches these filters. Clear a filter (or the search) to see more.",
    )

with st.container(horizontal=True, vertical_alignment="bottom"):
    last = max(result.pages, page_number)
    st.number_input("Page", min_value=1, max_value=last, step=1, key="q_page")
    number = st.number_input(
        "Ticket number", min_value=1, max_value=2**31 - 1, step=1, value=None, key="q_open_id"
    )
    if st.button("Open ticket", key="q_open", disabled=number is None):
        open_ticket(int(number))
