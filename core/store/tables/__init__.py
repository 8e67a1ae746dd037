"""Every table, one module per concern. Taking any name from this package (or calling
``load_all``) imports every table module, so ``SQLModel.metadata`` is whole and foreign keys
resolve (Alembic and the tests rely on that). Importing the package alone loads none: a cron
command imports the modules of the tables it reads (``tables.outbox``, ``tables.tickets``),
and the ORM then loads those its foreign keys point at, not every other table class."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel

if TYPE_CHECKING:  # the names for readers and type checkers; ``load_all`` binds them at run time
    from core.store.tables.accounts import AccessToken, PasswordThrottle, SshKey, User
    from core.store.tables.ack_quotas import AckQuota
    from core.store.tables.audit import AuditEvent
    from core.store.tables.inbound import InboundMessage
    from core.store.tables.outbox import OutboxEmail
    from core.store.tables.password_reset import PasswordResetLink
    from core.store.tables.pending_resets import PendingReset
    from core.store.tables.staff import StaffMember
    from core.store.tables.staff_sessions import StaffSession
    from core.store.tables.stats import TicketDayCount, TicketDurationBucket, TicketEvidenceKindDay
    from core.store.tables.tickets import Evidence, Ticket, TicketMessage, TicketNote
    from core.store.tables.twofactor import RecoveryCode, SecondFactorThrottle, TotpRegistration
    from core.store.tables.verification import VerificationReportRow
    from core.store.tables.workers import WorkerHeartbeat


def load_all() -> None:
    """Import every table module and bind its tables to this package's names."""
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        globals().update((name, value) for name, value in vars(module).items() if name in __all__)


REFERRED_TABLE_MODULES = {
    "users": "accounts",
    "tickets": "tickets",
    "ticket_messages": "tickets",
    "inbound_messages": "inbound",
    "outbox_emails": "outbox",
}
"""The module defining each table a foreign key points at, so that a command reading tickets
loads the tables they refer to and not every table; a target missing here loads them all."""


def _dangling_targets() -> set[str]:
    loaded = SQLModel.metadata.tables
    targets = {fk.target_fullname.split(".")[-2] for t in loaded.values() for fk in t.foreign_keys}
    return targets - set(loaded)


@event.listens_for(Mapper, "before_configured")
def _referred_tables_first() -> None:
    """Before the ORM configures its classes: if a loaded table refers to one not loaded (a
    module imported alone), load the modules of the tables referred to, and of those they
    refer to, so no foreign key is left dangling; every module when one is not known."""
    while missing := _dangling_targets():
        modules = {REFERRED_TABLE_MODULES.get(name) for name in missing}
        if None in modules:
            load_all()
            return
        for module in modules:
            importlib.import_module(f"{__name__}.{module}")
        if _dangling_targets() >= missing:  # the map is wrong: no progress
            load_all()
            return


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_all()
    return globals()[name]


__all__ = [
    "AccessToken",
    "AckQuota",
    "AuditEvent",
    "Evidence",
    "InboundMessage",
    "OutboxEmail",
    "PasswordResetLink",
    "PendingReset",
    "PasswordThrottle",
    "RecoveryCode",
    "SecondFactorThrottle",
    "SshKey",
    "StaffMember",
    "StaffSession",
    "Ticket",
    "TicketDayCount",
    "TicketDurationBucket",
    "TicketEvidenceKindDay",
    "TicketMessage",
    "TicketNote",
    "TotpRegistration",
    "User",
    "VerificationReportRow",
    "WorkerHeartbeat",
]
