"""Sign-in: password, then the code from the authenticator app (staff always have 2FA).
The app registers ``sign_in_page`` itself (not this file as a script), once per address."""

from __future__ import annotations

import streamlit as st

from backoffice.client_address import sign_in_client
from backoffice.markdown_text import literal
from backoffice.staff import state
from core.errors import DomainError
from core.staff import staff_sign_in_password, staff_sign_in_second_factor


def password_step() -> None:
    with st.form("sign_in_form"):
        login = st.text_input("Username or email", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Continue", type="primary", key="login_continue")
    if not submitted:
        return
    try:
        with state.db() as s:
            staff = staff_sign_in_password(
                s, login=login, password=password, client=sign_in_client(), clock=state.clock()
            )
    except DomainError as exc:
        state.show_error(exc)
        return
    state.await_code(staff)
    st.rerun()


def code_step(username: str) -> None:
    st.write(f"Signing in as **{literal(username)}**.")
    with st.form("code_form"):
        code = st.text_input(
            "Authentication code",
            key="login_code",
            max_chars=7,
            help="The 6-digit code your authenticator app shows for the back office.",
        )
        submitted = st.form_submit_button("Sign in", type="primary", key="login_submit")
    if st.button("Use another account", key="login_restart"):
        state.cancel_sign_in()
        st.rerun()
    if not submitted:
        return
    pending = state.pending_sign_in()
    try:
        with state.db() as s:
            staff = staff_sign_in_second_factor(s, staff=pending, pin=code, clock=state.clock())
    except DomainError as exc:
        state.show_error(exc)
        return
    state.complete_sign_in(staff)
    st.rerun()


def sign_in_page() -> None:
    """The whole sign-in page; also drawn under every other page's address while signed
    out, so a deep link asks to sign in and then opens its page."""
    st.title("Support back office")
    st.caption("Staff only. Sign in with your password and the code from your authenticator app.")
    if state.deep_link_pending() or st.query_params.get("ticket"):
        st.info("Sign in to open the ticket you followed a link to.", icon=":material/link:")
    pending = state.pending_sign_in()
    if pending is None:
        password_step()
    else:
        code_step(pending.username)
