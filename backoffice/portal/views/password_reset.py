"""Forgot password? Ask for a link by email; opened from the email, the page reads the token
from the URL (and clears it from the address bar), then asks for the new password and, with
2FA on, an authenticator or recovery code. Every rule lives in
``core.accounts.password_reset``; this page only shows."""

from __future__ import annotations

import streamlit as st

from backoffice.portal import state
from core.accounts.password_reset import (
    TOKEN_PARAM,
    InvalidResetLink,
    ResetLink,
    answer_no_sooner_than,
    complete_password_reset,
    inspect_reset_link,
    request_password_reset,
)
from core.errors import DomainError
from core.unit_of_work import unit_of_work as session_scope

_TOKEN = "password_reset_token"
APP_CODE = "Code from my authenticator app"
RECOVERY_CODE = "A recovery code"


def take_token_from_url() -> None:
    """Move the link's token out of the address bar (and so out of history and Referer
    headers) into this browser session."""
    token = st.query_params.get(TOKEN_PARAM)
    if token:
        st.session_state[_TOKEN] = token
        del st.query_params[TOKEN_PARAM]


def forget_token() -> None:
    st.session_state.pop(_TOKEN, None)


def ask_for_link() -> None:
    st.title("Forgot password?")
    st.write(
        "Enter the email address of your account. We will send a link to reset your "
        "password to that address; the link works once, for one hour."
    )
    with st.form("reset_request_form", clear_on_submit=True):
        email = st.text_input("Email address", key="reset_email")
        submitted = st.form_submit_button("Send reset link", type="primary", key="reset_send")
    if submitted:
        try:
            with answer_no_sooner_than(), session_scope() as s:
                answer = request_password_reset(s, email=email, clock=state.clock())
        except DomainError as exc:
            st.error(str(exc))
        else:
            st.success(answer)
    st.caption(
        "No longer using that address? A reset link only goes to the address on file; "
        "email support from it, or see the recovery options."
    )
    st.page_link("views/lost_everything.py", label="Recovery options", icon=":material/support:")


def both_factors_lost_help() -> None:
    st.caption(
        "Lost both your authenticator app and your recovery codes? This page cannot help: "
        "email support with proof that the account is yours (an SSH key or access token "
        "registered on it). Once support resets two-factor authentication, come back here "
        "through a new link."
    )
    st.page_link(
        "views/lost_everything.py",
        label="How to recover an account with support",
        icon=":material/support:",
    )


def choose_password(token: str, link: ResetLink) -> None:
    st.title("Choose a new password")
    st.write(f"Resetting the password of **{link.username}**.")
    factor = None
    if link.needs_second_factor:
        st.write("Two-factor authentication is on for this account: confirm with one of these.")
        factor = st.radio(
            "Second factor", (APP_CODE, RECOVERY_CODE), horizontal=True, key="reset_factor"
        )
    with st.form("reset_password_form", clear_on_submit=True):
        password = st.text_input("New password", type="password", key="reset_password")
        again = st.text_input("New password again", type="password", key="reset_password_again")
        code = None
        if factor == APP_CODE:
            code = st.text_input("Authentication code", max_chars=7, key="reset_pin")
        elif factor == RECOVERY_CODE:
            code = st.text_input("Recovery code", key="reset_recovery_code")
        submitted = st.form_submit_button("Set password", type="primary", key="reset_submit")
    if link.needs_second_factor:
        both_factors_lost_help()
    if not submitted:
        return
    if password != again:
        st.error("The two passwords differ.")
        return
    try:
        with session_scope() as s:
            complete_password_reset(
                s,
                token=token,
                new_password=password,
                totp_pin=code if factor == APP_CODE else None,
                recovery_code=code if factor == RECOVERY_CODE else None,
                clock=state.clock(),
            )
    except DomainError as exc:
        st.error(str(exc))
        return
    forget_token()
    state.sign_out()
    state.flash("success", "Your password was changed. Sign in with the new one.")
    st.switch_page("views/sign_in.py")


take_token_from_url()
current = st.session_state.get(_TOKEN)
if current is None:
    ask_for_link()
else:
    try:
        with session_scope(readonly=True) as s:
            live = inspect_reset_link(s, token=current, clock=state.clock())
    except InvalidResetLink as exc:
        st.title("Choose a new password")
        st.error(str(exc))
        if st.button("Ask for a new link", key="reset_new_link"):
            forget_token()
            st.rerun()
    else:
        choose_password(current, live)
