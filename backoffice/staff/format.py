"""Short human forms of durations, timestamps and missing values for the staff pages."""

from __future__ import annotations

from datetime import datetime, timedelta

NOTHING = "—"


def age(delta: timedelta | None) -> str:
    """``3d 4h``, ``5h 12m``, ``7m``; an em dash for nothing."""
    if delta is None:
        return NOTHING
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def seconds(value: float | None) -> str:
    return age(None if value is None else timedelta(seconds=value))


def when(at: datetime | None) -> str:
    return NOTHING if at is None else f"{at:%Y-%m-%d %H:%M} UTC"


def short_when(at: datetime | None) -> str:
    """``11-30 09:56`` for narrow table columns headed "(UTC)"."""
    return NOTHING if at is None else f"{at:%m-%d %H:%M}"


def text(value: object) -> str:
    """A table cell: an em dash for None or empty, else the value as text."""
    return NOTHING if value is None or value == "" else str(value)
