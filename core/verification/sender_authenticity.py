"""What a message's sender authenticity (SPF/DKIM/DMARC as our trusted receiver stamped
them, read by ``core.inbound.authenticity``) means for staff: plain words per message, and
a risk flag on the ticket and its verification report when DMARC did not pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"
"""No trusted receiver is configured: nothing can be read."""
ABSENT = "absent"
"""A trusted receiver is configured but stamped no result for the method."""


@dataclass(frozen=True)
class SenderAuthenticity:
    spf: str
    dkim: str
    dmarc: str
    authserv_id: str | None
    """The trusted receiver whose results these are; None when none stamped the mail."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "spf": self.spf,
            "dkim": self.dkim,
            "dmarc": self.dmarc,
            "authserv_id": self.authserv_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SenderAuthenticity | None:
        return cls(**data) if data else None

    @property
    def checked(self) -> bool:
        """A trusted receiver was configured when the mail arrived."""
        return self.dmarc != UNKNOWN

    def words(self) -> str:
        """One plain line for staff, e.g. ``SPF pass · DKIM pass · DMARC fail (by mx.example)``."""
        if not self.checked:
            return "SPF, DKIM, DMARC: not checked (no trusted receiver is configured)"
        line = f"SPF {self.spf} · DKIM {self.dkim} · DMARC {self.dmarc}"
        return line + (f" (by {self.authserv_id})" if self.authserv_id else " (no trusted result)")

    def risk(self, what: str) -> str | None:
        """The risk flag for ``what`` (``The first message``, ``A reply <id>``), or None: a
        DMARC fail says the From may be forged; any other result short of a pass, from a
        configured receiver, says it is unconfirmed. Unchecked mail is not flagged (see
        ``trusted_authserv_ids``)."""
        if not self.checked or self.dmarc == "pass":
            return None
        if self.dmarc == "fail":
            return f"{what} failed DMARC at {self.authserv_id}: its From address may be forged."
        return f"{what} has no DMARC pass (DMARC {self.dmarc}): its From address is unconfirmed."


def authenticity_flags(stored: Sequence[dict[str, Any] | None]) -> list[str]:
    """The risk flags of a ticket's inbound messages (their stored ``as_dict``, in order):
    the first message, then each reply by its number."""
    flags = []
    for number, data in enumerate(stored):
        auth = SenderAuthenticity.from_dict(data)
        what = "The first message" if number == 0 else f"Reply {number}"
        flag = auth.risk(what) if auth else None
        if flag:
            flags.append(flag)
    return flags
