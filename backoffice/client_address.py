"""What a Streamlit face knows of who is signing in, handed to the core's password throttle
(``client=``); the rule that reads it is ``core.twofactor.client_address``."""

from __future__ import annotations

import streamlit as st

from core.settings import get_settings
from core.twofactor.client_address import web_client


def sign_in_client() -> str | None:
    """This browser session's client for the throttle, from its WebSocket handshake: the
    peer Streamlit reports and the ``X-Forwarded-For`` lines, read past
    ``BACKOFFICE_TRUSTED_PROXIES``. Streamlit's server already puts the forwarded client in
    place of a proxy on the loopback interface, and reports loopback itself as no address
    (None), as it does under ``AppTest``."""
    context = st.context
    return web_client(
        context.ip_address,
        context.headers.get_all("x-forwarded-for"),
        get_settings().trusted_proxies,
    )
