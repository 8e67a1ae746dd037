"""The account portal's idle rule: a signed-in portal session ends after
``portal_session_idle_minutes`` without activity, like a staff session does."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import Clock, system_clock
from core.settings import get_settings


def portal_session_expired(last_seen: datetime, *, clock: Clock = system_clock) -> bool:
    idle = timedelta(minutes=get_settings().portal_session_idle_minutes)
    return clock() - last_seen > idle
