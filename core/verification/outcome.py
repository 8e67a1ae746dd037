"""Evidence strength and the recommendation to staff, as enums with the words staff read."""

from __future__ import annotations

from enum import StrEnum


class Strength(StrEnum):
    NONE = "none"
    WEAK = "weak"
    STRONG = "strong"

    @property
    def label(self) -> str:
        return {"none": "None", "weak": "Weak", "strong": "Strong"}[self.value]


class Recommendation(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    REQUEST_MORE_INFORMATION = "request_more_information"
    DENY = "deny"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Recommendation.APPROVE: "Approve",
    Recommendation.REVIEW: "Review first",
    Recommendation.REQUEST_MORE_INFORMATION: "Ask for more",
    Recommendation.DENY: "Deny",
}
