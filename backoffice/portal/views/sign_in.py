"""Sign in: username or email and password, then the authenticator pin or a recovery code."""

from __future__ import annotations

import streamlit as st

from backoffice.client_address import sign_in_client
from backoffice.markdown_text import literal
from backoffice.portal import state
from core.errors import DomainError
from core.twofactor import RecoveryCodeUse, sign_in_password, sign_in_second_factor
from core.unit_of_work import unit_of_work as session_scope

USE_RECOVERY_CODE = "Lost access to your two-factor authentication app? Use a recovery code"


def password_step() -> None:
    st.title("Log in")
    st.write("Log in to your Hugging Face account.")
    with st.form("signin_form", clear_on_submit=True):
        login = st.text_input("Username or Email address", key="signin_login")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Login", type="primary", key="signin_submit")
    if submitted:
        try:
            with session_scope() as s:
                result = sign_in_password(
                    s,
                    login=login,
                    password=password,
                    client=sign_in_client(),
                    clock=state.clock(),
                )
        except DomainError as exc:
            st.error(str(exc))
        else:
            if result.complete:
                state.complete_sign_in(result.user)
                state.flash("success", f"Signed in as {literal(result.user.username)}.")
            else:
                state.await_second_factor(result.user)
            st.rerun()
    st.page_link("views/lost_everything.py", label="Lost your authenticator app and codes?")


def flash_recovery_code_use(use: RecoveryCodeUse) -> None:
    """Say how many codes are left after signing in with one (warn when few remain) and
    that the next step is a new authenticator app."""
    message = (
        "You signed in with a recovery code; it cannot be used again. "
        f"{use.remaining} recovery code{'s' if use.remaining != 1 else ''} left."
    )
    if use.low:
        message += " You are running low: new codes come with your new authenticator app."
    state.flash("warning" if use.low else "info", message)


def second_factor_step(username: str) -> None:
    st.title("Two-factor authentication")
    recovery = state.recovery_mode()
    if recovery:
        st.write(
            "Enter one of the recovery codes you saved when you enabled two-factor "
            "authentication. Each code works once."
        )
    else:
        st.write(
            "Open your two-factor authenticator (TOTP) app or browser extension to view your "
            "authentication code."
        )
    with st.form("signin_2fa_form", clear_on_submit=True):
        if recovery:
            code = st.text_input("Recovery code", key="signin_recovery_code")
        else:
            code = st.text_input(
                "Authentication code", max_chars=7, placeholder="XXXXXX", key="signin_pin"
            )
        submitted = st.form_submit_button("Verify", type="primary", key="signin_verify")
    if submitted:
        try:
            with session_scope() as s:
                user = state.pending_user(s)
                if user is None:
                    state.cancel_second_factor()
                    st.rerun()
                result = sign_in_second_factor(
                    s,
                    user=user,
                    totp_pin=None if recovery else code,
                    recovery_code=code if recovery else None,
                    clock=state.clock(),
                )
        except DomainError as exc:
            st.error(str(exc))
        else:
            state.complete_sign_in(result.user)
            state.flash("success", f"Signed in as {literal(result.user.username)}.")
            if result.recovery is not None:
                flash_recovery_code_use(result.recovery)
                state.set_recovered(True)
                st.switch_page("views/authentication.py")
            st.rerun()
    if recovery:
        if st.button("Use your authenticator app instead", type="tertiary", key="use_totp"):
            state.set_recovery_mode(False)
            st.rerun()
    elif st.button(USE_RECOVERY_CODE, type="tertiary", key="use_recovery_code"):
        state.set_recovery_mode(True)
        st.rerun()
    st.caption(f"Signing in as **{username}**.")
    if st.button("Cancel", key="signin_cancel"):
        state.cancel_second_factor()
        st.rerun()
    st.page_link("views/lost_everything.py", label="Lost your authenticator app and codes?")


def signed_in(username: str) -> None:
    st.title("Signed in")
    st.write(f"You are signed in as **{username}**.")
    with st.container(key="to_authentication"):
        st.page_link(
            "views/authentication.py",
            label="Settings → Authentication",
            icon=":material/shield_lock:",
        )


username = state.signed_in_username()
if username:
    signed_in(username)
else:
    with session_scope(readonly=True) as s:
        waiting = state.pending_user(s)
    if waiting is not None:
        second_factor_step(waiting.username)
    else:
        password_step()
