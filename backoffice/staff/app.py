"""Entry script of the staff back office: the sign-in gate, role-gated navigation and the
signed-in badge.

Pages are files under ``views/`` (not ``pages/``, which Streamlit would auto-discover and
which breaks ``st.navigation`` in ``AppTest``). Signed out, every page's address shows the
sign-in (so a deep link opened while signed out asks to sign in, then shows its page) and no
other page can be reached; signed in, only the role's pages exist."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.staff import state
from backoffice.staff.persistence import keep_page_state
from backoffice.staff.sign_in import sign_in_page
from core.staff import PAGES, pages_for

# The favicon is served by the app itself: nothing is fetched from elsewhere (works offline).
st.set_page_config(
    page_title="Support back office",
    page_icon=str(Path(__file__).with_name("icon.png")),
    layout="wide",
)
# The grid's own CSV export would write mail subjects such as =HYPERLINK(...) as formulas;
# pages offer their own download with every cell neutralised instead.
st.set_option("client.disableDataExport", True)

SPECS = {
    "queue": ("views/queue.py", "Queue", ":material/inbox:"),
    "ticket": ("views/ticket.py", "Ticket", ":material/confirmation_number:"),
    "ops": ("views/ops.py", "Ops", ":material/monitoring:"),
    "mail": ("views/mail.py", "Mail", ":material/mail:"),
    "staff": ("views/staff_admin.py", "Staff", ":material/group:"),
}


def staff_pages(names: tuple[str, ...]) -> dict:
    """The role's pages by name (the first is the landing page)."""
    return {
        name: st.Page(SPECS[name][0], title=SPECS[name][1], icon=SPECS[name][2], url_path=name)
        for name in names
    }


def sign_in_pages() -> list:
    """The sign-in, also under every page's address: the address (and its ``?ticket=``)
    stays in the browser, so the real page opens once the sign-in is done."""
    login = st.Page(
        sign_in_page, title="Sign in", icon=":material/login:", url_path="login", default=True
    )
    return [login] + [st.Page(sign_in_page, title="Sign in", url_path=name) for name in PAGES]


keep_page_state()
staff = state.current_staff()

if staff is None:
    state.remember_deep_link()
    page = st.navigation(sign_in_pages(), position="hidden")
else:
    names = pages_for(staff.role)
    pages = staff_pages(names)
    page = st.navigation(list(pages.values()))
    waiting = state.take_deep_link()
    if waiting is not None and "ticket" in pages and page.url_path != "ticket":
        st.switch_page(pages["ticket"], query_params={"ticket": str(waiting)})
    with st.sidebar:
        st.caption(f"Signed in as **{literal(staff.username)}** · {staff.role}")
        if st.button("Sign out", key="sign_out"):
            state.sign_out()
            state.flash("You are signed out.", "info")
            st.rerun()

state.write_cookie()
state.show_flashes()
page.run()
