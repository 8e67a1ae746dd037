"""Entry script of the staff back office: the sign-in gate, role-gated navigation and the
signed-in badge.

Pages are files under ``views/`` (not ``pages/``, which Streamlit would auto-discover and
which breaks ``st.navigation`` in ``AppTest``). Signed out, the only registered page is the
sign-in, so no other page can be reached by URL; signed in, only the role's pages exist."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import state
from core.staff import pages_for

st.set_page_config(
    page_title="Support back office", page_icon=":material/support_agent:", layout="wide"
)


def staff_pages(names: tuple[str, ...], *, ticket_first: bool) -> list:
    """The role's pages; the Ticket page is the landing page while a deep link waits."""
    specs = {
        "queue": ("views/queue.py", "Queue", ":material/inbox:"),
        "ticket": ("views/ticket.py", "Ticket", ":material/confirmation_number:"),
        "ops": ("views/ops.py", "Ops", ":material/monitoring:"),
        "mail": ("views/mail.py", "Mail", ":material/mail:"),
        "staff": ("views/staff_admin.py", "Staff", ":material/group:"),
    }
    return [
        st.Page(
            specs[name][0],
            title=specs[name][1],
            icon=specs[name][2],
            url_path=name,
            default=ticket_first and name == "ticket",
        )
        for name in names
    ]


staff = state.current_staff()

if staff is None:
    state.remember_deep_link()
    page = st.navigation(
        [
            st.Page(
                "views/login.py",
                title="Sign in",
                icon=":material/login:",
                url_path="login",
                default=True,
            )
        ],
        position="hidden",
    )
else:
    names = pages_for(staff.role)
    ticket_first = state.deep_link_pending() and "ticket" in names
    page = st.navigation(staff_pages(names, ticket_first=ticket_first))
    with st.sidebar:
        st.caption(f"Signed in as **{staff.username}** · {staff.role}")
        if st.button("Sign out", key="sign_out"):
            state.sign_out()
            st.rerun()

state.show_flashes()
page.run()
