"""Mail that must never be answered automatically: auto-replies (RFC 3834), bulk and list
mail, and bounces (delivery status notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # parsing asks classify whether a senderless message is automatic
    from core.inbound.parsing import ParsedMessage

BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "junk", "list")


@dataclass(frozen=True)
class Classification:
    kind: str
    """``request`` (a person writing to us), ``auto`` or ``bounce``."""
    reason: str | None = None


def classify(parsed: ParsedMessage) -> Classification:
    """Bounces first (a DSN often also carries ``Auto-Submitted``), then automatic mail."""
    headers = parsed.headers
    local_part = parsed.from_addr.partition("@")[0].lower()
    if parsed.report_type == "delivery-status" or parsed.content_type == "multipart/report":
        return Classification("bounce", f"delivery report ({parsed.report_type or 'report'})")
    if headers.get("from", "").replace(" ", "") == "<>":
        return Classification("bounce", "null sender (From: <>)")
    if local_part in BOUNCE_SENDERS:
        return Classification("bounce", f"sent by {local_part.upper()}")
    if "return-path" in headers and headers["return-path"].replace(" ", "") in ("<>", ""):
        return Classification("bounce", "empty return path")
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return Classification("auto", f"Auto-Submitted: {auto_submitted}")
    if headers.get("x-auto-response-suppress"):
        return Classification("auto", "X-Auto-Response-Suppress")
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return Classification("auto", "X-Autoreply")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return Classification("auto", f"Precedence: {precedence}")
    if headers.get("list-id"):
        return Classification("auto", "mailing list (List-Id)")
    return Classification("request")
