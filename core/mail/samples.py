"""Sample contexts for every email, for previews (``backoffice mail preview NAME``, the staff
app's mail page) and for the test that renders every template."""

from __future__ import annotations

from typing import Any

from core.errors import NotFound
from core.mail.render import template_names
from core.settings import get_settings
from core.tickets.challenge import signing_command

SAMPLE_CHALLENGE = (
    "Hugging Face 2FA recovery challenge\n"
    "ticket: 1042\n"
    "nonce: 3f9c2b7e5d1a48c09e6f7a2b4c8d1e0f\n"
    "expires: 2026-12-05T12:00:00Z\n"
)


def _security(details: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    return {
        "username": "ada-lovelace",
        "occurred_at": "2026-11-28 12:00 UTC",
        "hub_url": settings.hub_url,
        "support_address": settings.support_address,
        "details": details,
    }


def _ticket() -> dict[str, Any]:
    settings = get_settings()
    return {
        "ticket_id": 1042,
        "ticket_subject": "Lost my phone, cannot sign in",
        "requester_name": "Ada Lovelace",
        "support_address": settings.support_address,
        "hub_url": settings.hub_url,
    }


def _challenge() -> dict[str, Any]:
    return {
        "challenge_text": SAMPLE_CHALLENGE,
        "challenge_expires": "2026-12-05 12:00 UTC",
        "signing_command": signing_command(),
    }


def sample_context(name: str) -> dict[str, Any]:
    """A realistic context for template ``name`` (no real account, no secret)."""
    settings = get_settings()
    samples: dict[str, Any] = {
        "two_factor_enabled": lambda: _security({"recovery_codes": 16}),
        "two_factor_disabled": lambda: _security({}),
        "recovery_codes_regenerated": lambda: _security({"recovery_codes": 16}),
        "recovery_code_used": lambda: _security({"remaining": 3}),
        "two_factor_reset": lambda: _security({"ticket_id": 1042}),
        "two_factor_reset_cancelled": lambda: _security({"ticket_id": 1042}),
        "two_factor_reset_pending": lambda: (
            _ticket()
            | {
                "username": "ada-lovelace",
                "revoked_tokens": [{"name": "laptop", "masked": "hf_…wXyZ"}],
                "password_reset_url": f"{settings.portal_url}/forgot-password",
                "due_at": "2026-11-29 12:00 UTC",
                "cancel_url": f"{settings.portal_url}/cancel-reset?token=SAMPLE-NOT-A-TOKEN",
            }
        ),
        "second_factor_failures": lambda: _security({"failures": 4, "kind": "totp"}),
        "password_changed": lambda: _security({"method": "email+totp"}),
        "recovery_codes_replaced_over_ssh": lambda: _security(
            {"fingerprint": "SHA256:njr3UvIfVWytkK3L+3F5drP+MFNxsT/zKos/WsvRv+Y", "codes": 16}
        ),
        "password_reset_link": lambda: {
            "username": "ada-lovelace",
            "reset_url": f"{settings.portal_url}/forgot-password?token=SAMPLE-NOT-A-TOKEN",
            "expires_minutes": settings.password_reset_link_minutes,
            "hub_url": settings.hub_url,
            "portal_url": settings.portal_url,
            "support_address": settings.support_address,
        },
        "approved": lambda: (
            _ticket()
            | {
                "username": "ada-lovelace",
                "revoked_tokens": [{"name": "laptop", "masked": "hf_…wXyZ"}],
                "password_reset_url": f"{settings.portal_url}/forgot-password",
            }
        ),
        "approved_requester": _ticket,
        "denied": lambda: (
            _ticket() | {"reason": "The signature was made with a key that is not on the account."}
        ),
        "more_information_needed": lambda: (
            _ticket()
            | _challenge()
            | {"message": "Please sign the challenge below with the SSH key on your account."}
        ),
        "ticket_received": lambda: (
            _challenge()
            | {
                "ticket_number": 1042,
                "requester_name": "Ada Lovelace",
                "subject": "Lost my phone, cannot sign in",
                "support_name": settings.support_name,
                "hub_url": settings.hub_url,
            }
        ),
    }
    if name not in template_names():
        raise NotFound(f"No email template named {name!r}.")
    if name not in samples:
        raise NotFound(f"No sample data for the email {name!r}.")
    return samples[name]()
