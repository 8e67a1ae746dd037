"""What the staff app remembers for one browser session: the signed-in staff member (ids and
role only) and their session token, a sign-in waiting for its code, a deep link waiting for
the sign-in to finish, and one-shot messages. Services get a fresh unit of work per action.

A reload or a new tab is a new Streamlit session: it resumes the sign-in from a cookie that
holds the session token (``core.staff.sessions`` keeps only its hash, with idle and absolute
ends and revocation). Streamlit cannot set an HttpOnly cookie, so the cookie is written by a
same-origin script and is therefore readable by scripts on the page; what keeps it safe is
that the page runs no script of anyone else's (mail text is shown literally, never as HTML or
Markdown), that it is ``SameSite=Strict`` (never sent by another site's request) and
``Secure`` with the ``__Host-`` prefix when served over HTTPS, that it dies on the server
with sign-out, inactivity, the absolute lifetime or a deactivation whatever the browser
keeps, and that it is bound to one staff member. Serve the staff app on its own host name:
cookies are shared between ports of one host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Literal

import streamlit as st
import streamlit.components.v1 as components
from sqlmodel import Session

from backoffice.markdown_text import literal
from core.clock import Clock, system_clock
from core.errors import DomainError
from core.staff import StaffIdentity
from core.staff.sessions import end_session, resume_session, session_lifetime, start_session
from core.tickets.numbers import parse_ticket_number
from core.unit_of_work import unit_of_work

CLOCK_KEY = "staff_clock"
"""Test seam: ``AppTest`` may put a ``Clock`` here; no widget has this key."""
COOKIES_KEY = "staff_test_cookies"
"""Test seam: ``AppTest`` cannot send cookies, so a test puts the cookies a browser would
send here (a dict); no widget has this key, and a browser only ever sends real cookies."""
COOKIE = "bo_staff_session"
SECURE_COOKIE = "__Host-bo_staff_session"

_STAFF = "staff_identity"
_TOKEN = "staff_session_token"
_PENDING = "staff_pending"
_DEEP_LINK = "staff_deep_link_ticket"
_FLASHES = "staff_flashes"
_COOKIE_WRITE = "staff_cookie_write"

FlashKind = Literal["success", "info", "warning", "error"]


def clock() -> Clock:
    return st.session_state.get(CLOCK_KEY, system_clock)


@contextmanager
def db(*, readonly: bool = False) -> Iterator[Session]:
    """A unit of work on the configured database."""
    with unit_of_work(readonly=readonly) as session:
        yield session


def _browser_token() -> str | None:
    cookies = st.session_state.get(COOKIES_KEY)
    if cookies is None:
        cookies = st.context.cookies
    token = cookies.get(SECURE_COOKIE) or cookies.get(COOKIE)
    return token if isinstance(token, str) else None


def current_staff() -> StaffIdentity | None:
    """The signed-in staff member, re-checked against the store on every run (a sign-out
    elsewhere, inactivity, a deactivation or a role change applies at once); resumed from
    the session cookie after a reload or in a new tab. None when signed out."""
    token = st.session_state.get(_TOKEN)
    from_cookie = token is None
    if from_cookie:
        token = _browser_token()
        if not token:
            return None
    with db() as s:
        staff = resume_session(s, token=token, clock=clock())
    if staff is None:
        if not from_cookie:
            flash(
                "Your session has ended (inactivity, a sign-out or a change to your access); "
                "sign in again.",
                "info",
            )
        _forget(clear_cookie=True)
        return None
    st.session_state[_TOKEN] = token
    st.session_state[_STAFF] = asdict(staff)
    return staff


def complete_sign_in(staff: StaffIdentity) -> None:
    """Both steps passed: open a server-side session and have the browser keep its token."""
    with db() as s:
        token = start_session(s, staff=staff, clock=clock())
    st.session_state.pop(_PENDING, None)
    st.session_state[_TOKEN] = token
    st.session_state[_STAFF] = asdict(staff)
    st.session_state[_COOKIE_WRITE] = token


def await_code(staff: StaffIdentity) -> None:
    st.session_state[_PENDING] = asdict(staff)


def pending_sign_in() -> StaffIdentity | None:
    data = st.session_state.get(_PENDING)
    return StaffIdentity(**data) if data else None


def cancel_sign_in() -> None:
    st.session_state.pop(_PENDING, None)


def sign_out() -> None:
    """End the session on the server (every tab) and clear the cookie in this browser."""
    token = st.session_state.get(_TOKEN)
    if token:
        with db() as s:
            end_session(s, token=token, clock=clock())
    _forget(clear_cookie=True)


def _forget(*, clear_cookie: bool) -> None:
    for key in (_STAFF, _TOKEN, _PENDING):
        st.session_state.pop(key, None)
    if clear_cookie:
        st.session_state[_COOKIE_WRITE] = ""


def write_cookie() -> None:
    """Set (after sign-in) or clear (after sign-out) the session cookie, once. The script
    runs in a same-origin frame, so ``document.cookie`` is the app's own cookie jar."""
    token = st.session_state.pop(_COOKIE_WRITE, None)
    if token is None:
        return
    max_age = int(session_lifetime().total_seconds()) if token else 0
    script = (
        "<script>(function(){"
        "const secure = window.parent.location.protocol === 'https:';"
        f"const name = secure ? {json.dumps(SECURE_COOKIE)} : {json.dumps(COOKIE)};"
        f"document.cookie = name + '=' + {json.dumps(token)} + "
        f"'; Path=/; Max-Age={max_age}; SameSite=Strict' + (secure ? '; Secure' : '');"
        "})();</script>"
    )
    components.html(script, height=0)


def remember_deep_link() -> None:
    """Keep ``?ticket=N`` across the sign-in; anything but a plausible number is ignored."""
    number = parse_ticket_number(st.query_params.get("ticket"))
    if number is not None:
        st.session_state[_DEEP_LINK] = number


def deep_link_pending() -> bool:
    return _DEEP_LINK in st.session_state


def take_deep_link() -> int | None:
    return st.session_state.pop(_DEEP_LINK, None)


def flash(message: str, kind: FlashKind = "success") -> None:
    """A message for the next run; ``message`` is Markdown written by us (escape mail text)."""
    st.session_state.setdefault(_FLASHES, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(_FLASHES, []):
        getattr(st, kind)(message)


def show_error(exc: DomainError) -> None:
    """One readable line, never a traceback; the message may quote input, so it is literal."""
    st.error(literal(exc), icon=":material/error:")
