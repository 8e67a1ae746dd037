"""What verification concludes about a ticket: one line per check, the overall strength of the
evidence and a recommendation for the staff member deciding."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

CheckResult = Literal["pass", "fail", "weak"]
Strength = Literal["none", "weak", "strong"]
Recommendation = Literal["approve", "review", "request_more_information", "deny"]

STRONG_CHECKS = frozenset({"ssh_signature", "token"})
"""Checks whose pass proves possession of a secret the account registered."""


@dataclass(frozen=True)
class Check:
    name: str
    """account | sender_address | ssh_public_key | fingerprint | ssh_signature | token"""
    result: CheckResult
    reason: str
    evidence_id: int | None = None


@dataclass(frozen=True)
class VerificationReport:
    ticket_id: int
    user_id: int | None
    username: str | None
    checks: list[Check]
    flags: list[str]
    """Reasons for a closer look: sender not on file, no account, evidence for another account."""
    strength: Strength
    recommendation: Recommendation
    summary: str
    computed_at: datetime
    exposed_token_ids: list[int] = field(default_factory=list)
    """Tokens of the resolved account that travelled in the ticket (approval revokes them)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the fields are flat values and lists of them; ``asdict``'s deep copy
        of every value cost more than the rest of a new ticket's verification)."""
        data = {name: getattr(self, name) for name in _REPORT_FIELDS}
        data["checks"] = [{name: getattr(c, name) for name in _CHECK_FIELDS} for c in self.checks]
        data["flags"] = list(self.flags)
        data["exposed_token_ids"] = list(self.exposed_token_ids)
        data["computed_at"] = self.computed_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationReport:
        data = dict(data)
        data["checks"] = [Check(**c) for c in data["checks"]]
        data["computed_at"] = datetime.fromisoformat(data["computed_at"])
        return cls(**data)


_REPORT_FIELDS = tuple(f.name for f in fields(VerificationReport))
_CHECK_FIELDS = tuple(f.name for f in fields(Check))
"""The fields in their order, read once (``fields`` builds its answer on every call)."""


def overall_strength(checks: list[Check], *, account_resolved: bool) -> Strength:
    """Strong if a possession proof passed, weak if only public material matched."""
    if not account_resolved:
        return "none"
    if any(c.result == "pass" and c.name in STRONG_CHECKS for c in checks):
        return "strong"
    if any(c.result == "weak" for c in checks):
        return "weak"
    return "none"


def recommend(
    strength: Strength, flags: list[str], *, account_resolved: bool, points_elsewhere: bool
) -> tuple[Recommendation, str]:
    """A recommendation and the sentence that explains it; staff still decide."""
    if not account_resolved:
        return (
            "request_more_information",
            "No single account matches the claims or the sender; ask which account it is.",
        )
    if strength == "strong":
        if flags:
            return "review", "Strong proof of possession, but look at the flags before approving."
        return "approve", "Strong proof of possession for the account on file."
    if points_elsewhere:
        return "deny", "The evidence belongs to a different account than the one claimed."
    if strength == "weak":
        return (
            "request_more_information",
            "Only public material matched (a public key or fingerprint); ask for a signed "
            "challenge or an access token, or approve with a recorded override reason.",
        )
    return (
        "request_more_information",
        "No evidence matched the account yet; ask for a signed challenge or an access token.",
    )
