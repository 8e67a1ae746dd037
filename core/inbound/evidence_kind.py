"""The kinds of evidence extracted from recovery mail, with the words staff read for them."""

from __future__ import annotations

from enum import StrEnum


class EvidenceKind(StrEnum):
    CLAIMED_USERNAME = "claimed_username"
    CLAIMED_EMAIL = "claimed_email"
    SSH_PUBLIC_KEY = "ssh_public_key"
    FINGERPRINT = "fingerprint"
    SSH_SIGNATURE = "ssh_signature"
    TOKEN = "token"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of a stored kind; an unknown value is shown as it is."""
        try:
            return cls(value).label
        except ValueError:
            return value


_LABELS = {
    EvidenceKind.CLAIMED_USERNAME: "Account name claimed",
    EvidenceKind.CLAIMED_EMAIL: "Account email claimed",
    EvidenceKind.SSH_PUBLIC_KEY: "SSH public key",
    EvidenceKind.FINGERPRINT: "SSH key fingerprint",
    EvidenceKind.SSH_SIGNATURE: "Signed challenge (SSH signature)",
    EvidenceKind.TOKEN: "Access token",
}
