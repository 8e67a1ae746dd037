"""Not you? The page behind the cancel link of a pending 2FA reset. Opening the link only
shows the reset; a button press cancels it, so a mail scanner that follows links cannot spend
it. The token leaves the address bar at once. Every rule lives in
``core.decisions.pending_resets``; this page only shows."""

from __future__ import annotations

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.portal import state
from core.decisions.pending_resets import (
    TOKEN_PARAM,
    InvalidCancelLink,
    cancel_reset,
    inspect_cancel_link,
)
from core.errors import DomainError
from core.unit_of_work import unit_of_work as session_scope

_TOKEN = "cancel_reset_token"

st.title("Cancel a two-factor reset")
if token := st.query_params.get(TOKEN_PARAM):
    st.session_state[_TOKEN] = token
    del st.query_params[TOKEN_PARAM]
current = st.session_state.get(_TOKEN)

if current is None:
    st.info("Open this page from the link in the email we sent to the address on your account.")
    st.stop()
try:
    with session_scope(readonly=True) as s:
        pending = inspect_cancel_link(s, token=current)
except InvalidCancelLink as exc:
    st.session_state.pop(_TOKEN, None)
    st.error(str(exc))
    st.stop()

st.write(
    f"Support approved a request to reset two-factor authentication on your account "
    f"**{literal(pending.username)}** (request #{pending.ticket_id}). It takes effect on "
    f"{pending.due_at:%Y-%m-%d %H:%M} UTC; until then your authenticator app and recovery codes "
    "keep working."
)
st.write("If you did not ask for this, cancel it: support will look at the request again.")
if st.button("Cancel the reset", type="primary", key="cancel_reset_confirm"):
    try:
        with session_scope() as s:
            cancel_reset(s, token=current, clock=state.clock())
    except DomainError as exc:
        st.error(str(exc))
    else:
        st.session_state.pop(_TOKEN, None)
        st.success(
            "The reset is cancelled: nothing changed on your account. We emailed you a "
            "confirmation, and support will look at the request again."
        )
