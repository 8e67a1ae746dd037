"""Entry script of the account portal: page frame, navigation and the signed-in badge.

Pages are files under ``views/`` (not ``pages/``, which Streamlit would auto-discover and which
breaks ``st.navigation`` in ``AppTest``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.portal import state

# The favicon is served by the app itself: nothing is fetched from elsewhere (works offline).
st.set_page_config(
    page_title="Hugging Face account",
    page_icon=str(Path(__file__).with_name("icon.png")),
    layout="centered",
)

# Once signed in, the first page is the account overview, so "Sign in" leaves the sidebar.
username = state.signed_in_username()
SIGN_IN = st.Page(
    "views/sign_in.py",
    title="Your account" if username else "Sign in",
    icon=":material/account_circle:" if username else ":material/login:",
    default=True,
)
AUTHENTICATION = st.Page(
    "views/authentication.py",
    title="Authentication",
    icon=":material/shield_lock:",
    url_path="authentication",
)
FORGOT_PASSWORD = st.Page(
    "views/password_reset.py",
    title="Forgot password?",
    icon=":material/lock_reset:",
    url_path="forgot-password",
)
LOST_EVERYTHING = st.Page(
    "views/lost_everything.py",
    title="Lost everything?",
    icon=":material/support:",
    url_path="lost-everything",
)
CANCEL_RESET = st.Page(
    "views/cancel_reset.py",
    title="Cancel a 2FA reset",
    icon=":material/block:",
    url_path="cancel-reset",
)

page = st.navigation(
    {
        "Account": [SIGN_IN, FORGOT_PASSWORD],
        "Settings": [AUTHENTICATION],
        "Help": [LOST_EVERYTHING, CANCEL_RESET],
    }
)

with st.sidebar:
    if username:
        st.caption(f"Signed in as **{literal(username)}**")
        if st.button("Sign out", key="sign_out"):
            state.sign_out()
            state.flash("info", "You are signed out.")
            st.switch_page(SIGN_IN)
    else:
        st.caption("Not signed in")

state.show_flashes()
page.run()
