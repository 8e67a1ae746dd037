"""What each email template is, in words for staff (the outbox and the captured mail)."""

from __future__ import annotations

TEMPLATE_LABELS = {
    "ticket_received": "Request received (acknowledgement)",
    "approved": "Approval: 2FA reset",
    "approved_requester": "Approval (to the requester)",
    "denied": "Denial",
    "more_information_needed": "Request for more information",
    "two_factor_enabled": "Security notice: 2FA turned on",
    "two_factor_disabled": "Security notice: 2FA removed",
    "two_factor_reset": "Security notice: 2FA reset by support",
    "recovery_codes_regenerated": "Security notice: new recovery codes",
    "recovery_code_used": "Security notice: recovery code used",
}


def template_label(name: str) -> str:
    return TEMPLATE_LABELS.get(name, name.replace("_", " ").capitalize())
