"""Inbound mail: raw bytes stored first, parsed, classified, mined for evidence, and turned
into tickets; fed by Maildir, mbox, .eml files, IMAP and an SMTP receiver."""

from core.inbound.pipeline import (
    IngestOutcome,
    SourceMessage,
    default_parse_processes,
    ingest_bytes,
    ingest_messages,
    reprocess_quarantined,
)
from core.inbound.quarantine import list_quarantined
from core.inbound.report import IngestReport

__all__ = [
    "IngestOutcome",
    "IngestReport",
    "SourceMessage",
    "default_parse_processes",
    "ingest_bytes",
    "ingest_messages",
    "list_quarantined",
    "reprocess_quarantined",
]
