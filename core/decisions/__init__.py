"""Deciding recovery tickets: approve (reset 2FA, revoke exposed tokens), deny, or ask for
more information; each with its audit events and emails in one transaction."""

from core.decisions.emails import DECISION_EMAILS
from core.decisions.service import (
    Decision,
    approve_ticket,
    deny_ticket,
    preview_decision_email,
    request_more_information,
)

__all__ = [
    "DECISION_EMAILS",
    "Decision",
    "approve_ticket",
    "deny_ticket",
    "preview_decision_email",
    "request_more_information",
]
