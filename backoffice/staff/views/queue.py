"""The queue: open tickets oldest first, filters, search, paging and counts per status.
Every figure comes from one indexed SQL query; selecting a row opens the ticket."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import format, state
from core.store.tables.tickets import OPEN_STATUSES, TICKET_STATUSES
from core.tickets.queue import UNASSIGNED, QueueFilter, queue_page

PAGE_SIZE = 50
EVIDENCE = ("strong", "weak", "none")
ASSIGNEE_CHOICES = {"Anyone": None, "Unassigned": UNASSIGNED, "Me": "me"}


def open_ticket(ticket_id: int) -> None:
    st.switch_page("views/ticket.py", query_params={"ticket": str(ticket_id)})


staff = state.current_staff()
st.title("Queue")

with st.container(horizontal=True):
    statuses = st.multiselect(
        "Status",
        TICKET_STATUSES,
        default=list(OPEN_STATUSES),
        key="q_status",
        help="Empty means every status.",
    )
    evidence = st.multiselect("Evidence", EVIDENCE, key="q_evidence", help="Empty means any.")
    assignee_label = st.selectbox("Assignee", list(ASSIGNEE_CHOICES), key="q_assignee")
    older = st.number_input(
        "Older than (hours)", min_value=0, value=0, step=1, key="q_older", help="0 means any age."
    )
    search = st.text_input(
        "Search", key="q_search", placeholder="#123, username or email", help="Exact match."
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
)
page_number = int(st.session_state.get("q_page", 1))
with state.db(readonly=True) as s:
    result = queue_page(s, flt, page=page_number, page_size=PAGE_SIZE, clock=state.clock())

with st.container(horizontal=True):
    for status, count in result.status_counts.items():
        st.metric(status.replace("_", " "), str(count))

st.caption(
    f"{result.total} matching · page {result.page} of {result.pages} · oldest first. "
    "Select a row to open the ticket."
)
rows = [
    {
        "#": r.id,
        "Status": r.status,
        "Age": format.age(r.age),
        "Requester": r.requester,
        "Account": r.claimed_account,
        "Evidence": r.evidence_strength,
        "Assignee": r.assignee or "",
        "Subject": ("[flagged] " if r.flagged else "") + r.subject,
    }
    for r in result.rows
]
if rows:
    event = st.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="queue_table",
        column_config={"#": st.column_config.NumberColumn(format="%d", width="small")},
    )
    if event.selection.rows:
        open_ticket(rows[event.selection.rows[0]]["#"])
else:
    st.info("No ticket matches these filters.")

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.number_input("Page", min_value=1, step=1, key="q_page")
    number = st.number_input("Ticket number", min_value=1, step=1, value=None, key="q_open_id")
    if st.button("Open ticket", key="q_open", disabled=number is None):
        open_ticket(int(number))
