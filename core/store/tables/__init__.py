"""Every table, one module per concern. Importing this package registers them all on
``SQLModel.metadata`` (Alembic and the tests rely on that)."""

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
