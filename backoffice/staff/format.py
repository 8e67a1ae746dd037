"""Short human forms of durations and timestamps for the staff pages."""

from __future__ import annotations

from datetime import datetime, timedelta


def age(delta: timedelta | None) -> str:
    """``3d 4h``, ``5h 12m``, ``7m``; an em dash for nothing."""
    if delta is None:
        return "—"
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
    return "—" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"
