"""Widget values that must survive moving between pages: Streamlit forgets a widget's value
when a run does not draw it, so the queue's filters and page, and the chosen decision, would
reset on the way to a ticket and back. Re-assigning them at the start of every run keeps
them (Streamlit's documented way to carry widget state across pages)."""

from __future__ import annotations

import streamlit as st

KEPT_KEYS = (
    "q_status",
    "q_evidence",
    "q_recommendation",
    "q_flagged",
    "q_assignee",
    "q_older",
    "q_search",
    "q_page",
)


def keep_page_state() -> None:
    for key in KEPT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
