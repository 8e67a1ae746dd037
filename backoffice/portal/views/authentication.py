"""Settings → Authentication: 2FA status, adding it (QR code, manual entry, pin), the recovery
codes, regenerating them, and removing 2FA."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from backoffice.client_address import sign_in_client
from backoffice.portal import state
from core.accounts.users import User
from core.audit_labels import event_label
from core.errors import DomainError
from core.twofactor import (
    COMPATIBLE_APPS,
    Provisioning,
    TwoFactorStatus,
    begin_enrolment,
    confirm_enrolment,
    disable_two_factor,
    pending_provisioning,
    regenerate_recovery_codes,
    two_factor_status,
)
from core.unit_of_work import unit_of_work as session_scope


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def show_status(status: TwoFactorStatus) -> None:
    with st.container(key="twofa_status", border=True):
        on, codes = st.columns(2)
        on.metric(
            "Two-factor authentication",
            "On" if status.enabled else ("Pending" if status.pending else "Off"),
        )
        if status.enabled:
            codes.metric("Recovery codes left", status.recovery_codes_left)
            st.caption(f"Enabled since {when(status.enabled_at)}.")
        if status.low_on_codes:
            st.warning(
                f"Only {status.recovery_codes_left} recovery codes left. Regenerate your "
                "recovery codes below so that you can still sign in if you lose your app."
            )
        elif not status.enabled:
            st.caption("Your account is protected by your password only.")


def show_events(events: list, username: str) -> None:
    st.subheader("Recent security events")
    if not events:
        st.caption("No security events yet.")
        return
    rows = [
        {
            "When": when(e.at),
            "Event": event_label(e.action),
            "By": "You" if e.actor == f"user:{username}" else e.actor.split(":", 1)[0].title(),
        }
        for e in events
    ]
    with st.container(key="security_events"):
        st.table(rows, hide_index=True, border="horizontal")


def show_new_codes() -> None:
    codes = state.new_codes()
    if codes is None:
        return
    with st.container(key="recovery_codes", border=True):
        st.subheader("Your recovery codes")
        st.write(
            "If you lose access to your authenticator app, you can sign in with one of these "
            "codes. Each code works once. They are shown only now."
        )
        st.code("\n".join(codes.codes), language=None)
        st.download_button(
            "Download codes",
            data=codes.file_text(),
            file_name=codes.file_name,
            mime="text/plain",
            icon=":material/download:",
            on_click="ignore",
            key="download_codes",
        )
        st.info(
            "Download them and keep them in a safe place: print them, or store them in a "
            "password manager, away from the device that runs your authenticator app. "
            "Anyone with a code and your password can sign in as you."
        )
        if st.button("I have saved my recovery codes", key="codes_saved"):
            state.forget_new_codes()
            st.rerun()


def offer_enrolment(user: User) -> None:
    st.write(
        "Using two-factor authentication verifies your identity with two methods: your "
        "password, and a one-time security code from an app on your phone. Only you can then "
        "sign in, even if your password is compromised."
    )
    if st.button("Add Two-Factor Authentication", type="primary", key="add_2fa"):
        try:
            with session_scope() as s:
                begin_enrolment(s, user=user, clock=state.clock())
        except DomainError as exc:
            st.error(str(exc))
        else:
            st.rerun()


def enrolment(user: User, prov: Provisioning) -> None:
    st.markdown("#### Set up your authenticator app")
    st.markdown(
        "1. Install a compatible application on your device (usually your phone), for example: "
        + ", ".join(COMPATIBLE_APPS)
        + ".\n"
        "2. In the application, add a new entry: scan the code below with your device's "
        "camera, or enter the details manually.\n"
        "3. Enter the six-digit pin from the application into *Pin code* and *Save*."
    )
    qr, manual = st.columns([2, 3], vertical_alignment="top")
    with qr:
        st.image(
            prov.qr_png(),
            caption="Scan with your authenticator app",
            width=220,
            output_format="PNG",
        )
    with manual, st.container(key="manual_entry"):
        st.markdown("**Or enter the details manually**")
        st.caption("Key")
        with st.container(key="manual_entry_key"):
            st.code(prov.grouped_secret, language=None)
        details = prov.manual_entry()
        st.markdown(
            "\n".join(
                f"- **{name.title()}**: {details[name]}"
                for name in ("issuer", "account", "algorithm", "digits", "period", "type")
            )
        )
    with st.form("enrol_form", clear_on_submit=True):
        pin = st.text_input("Pin code", max_chars=7, placeholder="XXXXXX", key="enrol_pin")
        submitted = st.form_submit_button("Save", type="primary", key="enrol_save")
    if submitted:
        try:
            with session_scope() as s:
                codes = confirm_enrolment(s, user=user, pin=pin, clock=state.clock())
        except DomainError as exc:
            st.error(str(exc))
        else:
            state.keep_new_codes(codes)
            state.flash("success", "Two-factor authentication is now enabled on your account.")
            st.rerun()


def new_authenticator(user: User, codes_left: int) -> None:
    """After a recovery-code sign-in: move to a new authenticator app with the password and
    one more recovery code (the lost app cannot give a code), then enrol the new one."""
    with st.container(key="new_authenticator", border=True):
        st.markdown("#### Set up your new authenticator app")
        st.write(
            f"You signed in with a recovery code; {codes_left} left. Your lost app is still "
            "registered: replace it now. Confirm with your password and one more recovery "
            "code; the old app stops working and you scan a new code with your new app."
        )
        with st.form("replace_form", clear_on_submit=True):
            password = st.text_input("Password", type="password", key="replace_password")
            code = st.text_input("Recovery code", key="replace_code")
            submitted = st.form_submit_button(
                "Replace my authenticator app", type="primary", key="replace_submit"
            )
        if submitted:
            try:
                with session_scope() as s:
                    disable_two_factor(
                        s,
                        user=user,
                        password=password,
                        recovery_code=code,
                        client=sign_in_client(),
                        clock=state.clock(),
                    )
                    begin_enrolment(s, user=user, clock=state.clock())
            except DomainError as exc:
                st.error(str(exc))
            else:
                state.set_recovered(False)
                state.flash("info", "Now scan the new code with your new authenticator app.")
                st.rerun()


def regenerate(user: User) -> None:
    st.markdown("#### Recovery codes")
    with st.form("regen_form", clear_on_submit=True):
        st.write(
            "Regenerate recovery codes: every code you saved before stops working. Enter a "
            "current code from your authenticator app first."
        )
        pin = st.text_input("Authentication code", max_chars=7, key="regen_pin")
        submitted = st.form_submit_button("Regenerate recovery codes", key="regen_submit")
    if submitted:
        try:
            with session_scope() as s:
                codes = regenerate_recovery_codes(s, user=user, pin=pin, clock=state.clock())
        except DomainError as exc:
            st.error(str(exc))
        else:
            state.keep_new_codes(codes)
            state.flash("success", "New recovery codes generated; the old ones no longer work.")
            st.rerun()


def remove(user: User) -> None:
    st.markdown("#### Remove two-factor authentication")
    with st.form("remove_form", clear_on_submit=True):
        st.write(
            "Remove two-factor authentication from your account: your authenticator app "
            "registration and every recovery code are cleared. Confirm with your password "
            "and a current code from your app."
        )
        password = st.text_input("Password", type="password", key="remove_password")
        pin = st.text_input("Authentication code", max_chars=7, key="remove_pin")
        submitted = st.form_submit_button("Remove", key="remove_submit")
    if submitted:
        try:
            with session_scope() as s:
                disable_two_factor(
                    s,
                    user=user,
                    password=password,
                    pin=pin,
                    client=sign_in_client(),
                    clock=state.clock(),
                )
        except DomainError as exc:
            st.error(str(exc))
        else:
            state.forget_new_codes()
            state.flash("success", "Two-factor authentication was removed from your account.")
            st.rerun()


st.title("Authentication")
with session_scope(readonly=True) as s:
    current = state.signed_in_user(s)
    if current is not None:
        status = two_factor_status(s, current)
        prov = pending_provisioning(s, user=current) if status.pending else None
if current is None:
    st.info("Sign in to manage your two-factor authentication.")
    st.page_link("views/sign_in.py", label="Sign in", icon=":material/login:")
    st.stop()

show_status(status)
show_new_codes()
if status.enabled:
    if state.recovered():
        new_authenticator(current, status.recovery_codes_left)
    regenerate(current)
    remove(current)
elif prov is not None:
    enrolment(current, prov)
else:
    offer_enrolment(current)
show_events(status.recent_events, current.username)
