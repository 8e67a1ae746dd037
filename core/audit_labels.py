"""Audit events in words for people: what happened and who did it, for the staff app's
account history and the portal's security events."""

from __future__ import annotations

EVENT_LABELS = {
    "2fa.enabled": "Two-factor authentication enabled",
    "2fa.disabled": "Two-factor authentication removed",
    "2fa.recovery_codes_regenerated": "Recovery codes regenerated",
    "2fa.recovery_code_used": "Signed in with a recovery code",
    "2fa.reset_by_support": "Two-factor authentication reset by support",
    "2fa.locked": "Second factor locked after failed codes",
    "2fa.recovery_codes_replaced_over_ssh": "Recovery codes replaced over SSH",
    "signin.password_failed": "Wrong password entered",
    "password.reset": "Password reset with an emailed link",
    "password.reset_link_sent": "Password-reset link emailed",
    "password.reset_link_not_sent": "Password-reset link asked for, none sent",
    "ssh_key.added": "SSH key added",
    "ssh_key.revoked": "SSH key revoked",
    "token.issued": "Access token created",
    "token.revoked": "Access token revoked",
    "staff.created": "Staff account created",
    "staff.updated": "Staff access changed",
    "staff.signed_in": "Signed in to the back office",
    "ticket.created": "Recovery request received",
    "ticket.claimed": "Ticket claimed",
    "ticket.released": "Ticket released",
    "ticket.reopened": "Ticket reopened by a reply",
    "ticket.approved": "Recovery request approved",
    "ticket.denied": "Recovery request denied",
    "ticket.more_information_requested": "More information requested",
    "outbox.retried": "Failed email queued again",
}


def event_label(action: str) -> str:
    """The sentence for an audit action; an unknown action reads as itself."""
    return EVENT_LABELS.get(action, action)


def actor_label(actor: str, *, owner: str | None = None) -> str:
    """``user:alice`` → ``alice`` (``the owner`` when it is the account's own user),
    ``staff:sam`` → ``support (sam)``, ``system`` → ``the system``."""
    kind, _, name = actor.partition(":")
    if kind == "user":
        return "the owner" if owner is not None and name == owner else name
    if kind == "staff":
        return f"support ({name})"
    return "the system" if actor == "system" else actor
