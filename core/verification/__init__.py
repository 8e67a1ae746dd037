"""Evidence from a ticket checked against the account's records: account resolution, SSH
keys and fingerprints (weak), SSH signatures and access tokens (strong)."""

from core.verification.report import Check, VerificationReport
from core.verification.service import (
    compute_report,
    latest_report,
    store_report,
    verify_ticket,
)
from core.verification.signatures import SignatureRejected, parse_signature, verify_signature

__all__ = [
    "Check",
    "SignatureRejected",
    "VerificationReport",
    "compute_report",
    "latest_report",
    "parse_signature",
    "store_report",
    "verify_signature",
    "verify_ticket",
]
