"""What the staff app remembers for one browser session: the signed-in staff member (ids and
role only), a sign-in waiting for its code, the last activity time, a deep link waiting for
the sign-in to finish, and one-shot messages. Services get a fresh session per action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Literal

import streamlit as st
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.errors import DomainError
from core.staff import StaffIdentity, active_staff, session_expired
from core.store import get_engine, session_scope

CLOCK_KEY = "staff_clock"
"""Test seam: ``AppTest`` may put a ``Clock`` here; no widget has this key."""

_STAFF = "staff_identity"
_PENDING = "staff_pending"
_LAST_SEEN = "staff_last_seen"
_DEEP_LINK = "staff_deep_link_ticket"
_FLASHES = "staff_flashes"

FlashKind = Literal["success", "info", "warning", "error"]


def clock() -> Clock:
    return st.session_state.get(CLOCK_KEY, system_clock)


@contextmanager
def db(*, readonly: bool = False) -> Iterator[Session]:
    """A unit of work on the configured database."""
    with session_scope(get_engine(), readonly=readonly) as session:
        yield session


def current_staff() -> StaffIdentity | None:
    """The signed-in staff member, re-read from the store (a deactivation or role change
    applies at once); None after sign-out or inactivity, which also ends the session."""
    data = st.session_state.get(_STAFF)
    if data is None:
        return None
    if session_expired(st.session_state[_LAST_SEEN], clock=clock()):
        sign_out()
        flash("Your session ended after a period of inactivity; sign in again.", "info")
        return None
    with db(readonly=True) as s:
        staff = active_staff(s, data["user_id"])
    if staff is None:
        sign_out()
        return None
    st.session_state[_LAST_SEEN] = clock()()
    st.session_state[_STAFF] = asdict(staff)
    return staff


def complete_sign_in(staff: StaffIdentity) -> None:
    st.session_state.pop(_PENDING, None)
    st.session_state[_STAFF] = asdict(staff)
    st.session_state[_LAST_SEEN] = clock()()


def await_code(staff: StaffIdentity) -> None:
    st.session_state[_PENDING] = asdict(staff)


def pending_sign_in() -> StaffIdentity | None:
    data = st.session_state.get(_PENDING)
    return StaffIdentity(**data) if data else None


def sign_out() -> None:
    for key in (_STAFF, _PENDING, _LAST_SEEN):
        st.session_state.pop(key, None)


def remember_deep_link() -> None:
    """Keep ``?ticket=N`` across the sign-in (the login page replaces the URL)."""
    ticket = st.query_params.get("ticket")
    if ticket and ticket.isdigit():
        st.session_state[_DEEP_LINK] = int(ticket)


def deep_link_pending() -> bool:
    return _DEEP_LINK in st.session_state


def take_deep_link() -> int | None:
    return st.session_state.pop(_DEEP_LINK, None)


def flash(message: str, kind: FlashKind = "success") -> None:
    st.session_state.setdefault(_FLASHES, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(_FLASHES, []):
        getattr(st, kind)(message)


def show_error(exc: DomainError) -> None:
    """One readable line, never a traceback."""
    st.error(str(exc), icon=":material/error:")
