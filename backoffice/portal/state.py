"""What the portal remembers for one browser session: who is signed in, a sign-in waiting for
its second factor, when it was last active, freshly generated recovery codes, and one-shot
messages. A sign-in (or one waiting for its code) ends after ``portal_session_idle_minutes``
without activity, as a staff session does.

Only ids and the codes the user is being shown live here; the TOTP secret never does (the
enrolment page reads it from the store while enrolment is pending, so it is gone for good
once 2FA is on)."""

from __future__ import annotations

from typing import Literal

import streamlit as st
from sqlmodel import Session

from core.accounts.portal_sessions import portal_session_expired
from core.accounts.users import User
from core.clock import Clock, system_clock
from core.settings import get_settings
from core.twofactor import RecoveryCodeSet

CLOCK_KEY = "portal_clock"
"""Test seam: ``AppTest`` may put a ``Clock`` here to pin TOTP steps. A browser cannot set it,
since no widget has this key."""

_USER_ID = "portal_user_id"
_USERNAME = "portal_username"
_PENDING_USER_ID = "portal_pending_user_id"
_RECOVERY_MODE = "portal_recovery_mode"
_FLASHES = "portal_flashes"
_NEW_CODES = "portal_new_codes"
_LAST_SEEN = "portal_last_seen"
_RECOVERED = "portal_recovered"

FlashKind = Literal["success", "info", "warning"]


def clock() -> Clock:
    return st.session_state.get(CLOCK_KEY, system_clock)


def _expire_if_idle() -> None:
    """End a sign-in (or one waiting for its code) idle for too long; else note activity."""
    if _USER_ID not in st.session_state and _PENDING_USER_ID not in st.session_state:
        return
    now = clock()()
    last_seen = st.session_state.get(_LAST_SEEN, now)
    if portal_session_expired(last_seen, clock=lambda: now):
        sign_out()
        minutes = get_settings().portal_session_idle_minutes
        flash("info", f"You were signed out after {minutes} minutes without activity.")
        return
    st.session_state[_LAST_SEEN] = now


def signed_in_username() -> str | None:
    _expire_if_idle()
    return st.session_state.get(_USERNAME)


def signed_in_user(session: Session) -> User | None:
    """The signed-in account, freshly loaded in ``session`` (None if signed out, idle too
    long or deleted)."""
    _expire_if_idle()
    user_id = st.session_state.get(_USER_ID)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None and user_id is not None:
        sign_out()
    return user


def complete_sign_in(user: User) -> None:
    sign_out()
    st.session_state[_USER_ID] = user.id
    st.session_state[_USERNAME] = user.username
    st.session_state[_LAST_SEEN] = clock()()


def sign_out() -> None:
    for key in (
        _USER_ID,
        _USERNAME,
        _PENDING_USER_ID,
        _RECOVERY_MODE,
        _NEW_CODES,
        _LAST_SEEN,
        _RECOVERED,
    ):
        st.session_state.pop(key, None)


def await_second_factor(user: User) -> None:
    """The password was right and 2FA is on: remember the account until the pin arrives."""
    sign_out()
    st.session_state[_PENDING_USER_ID] = user.id
    st.session_state[_LAST_SEEN] = clock()()


def pending_user(session: Session) -> User | None:
    _expire_if_idle()
    user_id = st.session_state.get(_PENDING_USER_ID)
    return session.get(User, user_id) if user_id is not None else None


def cancel_second_factor() -> None:
    st.session_state.pop(_PENDING_USER_ID, None)
    st.session_state.pop(_RECOVERY_MODE, None)


def recovery_mode() -> bool:
    return st.session_state.get(_RECOVERY_MODE, False)


def set_recovery_mode(on: bool) -> None:
    st.session_state[_RECOVERY_MODE] = on


def recovered() -> bool:
    """Signed in with a recovery code this session: the authenticator app is lost."""
    return st.session_state.get(_RECOVERED, False)


def set_recovered(on: bool) -> None:
    st.session_state[_RECOVERED] = on


def flash(kind: FlashKind, message: str) -> None:
    """A message for the next run (the current one ends with ``st.rerun``)."""
    st.session_state.setdefault(_FLASHES, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(_FLASHES, []):
        getattr(st, kind)(message)


def keep_new_codes(codes: RecoveryCodeSet) -> None:
    """Hold a new code set on screen (across the download's rerun) until the user is done."""
    st.session_state[_NEW_CODES] = codes


def new_codes() -> RecoveryCodeSet | None:
    return st.session_state.get(_NEW_CODES)


def forget_new_codes() -> None:
    st.session_state.pop(_NEW_CODES, None)
