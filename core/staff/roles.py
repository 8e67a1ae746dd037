"""What each staff role may see and do. The staff app builds its navigation from this, so a
page a role may not see is never registered for that session."""

from __future__ import annotations

from core.store.tables.staff import STAFF_ROLES

PAGES = ("queue", "ticket", "ops", "mail", "staff")

ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "agent": ("queue", "ticket", "mail"),
    "admin": ("queue", "ticket", "ops", "mail", "staff"),
    "ops": ("ops", "mail"),
}
"""agent works tickets; admin also manages staff and sees the dashboards; ops is read-only
on tickets (dashboards and mail health only)."""

DECIDING_ROLES = frozenset({"agent", "admin"})

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "decide": DECIDING_ROLES,
    "confirm_high_value": frozenset({"admin"}),
    "mail.retry": DECIDING_ROLES,
    "mail.reprocess": DECIDING_ROLES,
    "staff.manage": frozenset({"admin"}),
}
"""Which roles may perform each action ``core.staff.authorization.authorize`` guards. ops
reads dashboards and mail health; changing anything needs agent or admin."""


def pages_for(role: str) -> tuple[str, ...]:
    return ROLE_PAGES.get(role, ())


def can_decide(role: str) -> bool:
    return role in DECIDING_ROLES


__all__ = [
    "DECIDING_ROLES",
    "PAGES",
    "ROLE_ACTIONS",
    "ROLE_PAGES",
    "STAFF_ROLES",
    "can_decide",
    "pages_for",
]
