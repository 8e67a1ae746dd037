"""Where inbound mail comes from. Each source yields ``SourceMessage`` objects for
``core.inbound.pipeline.ingest_messages`` and marks a message done only after its commit."""

from core.inbound.sources.files import count_messages, path_messages
from core.inbound.sources.imap import ImapConfig, ImapSource
from core.inbound.sources.smtp import InboundHandler, start_receiver, stop_receiver

__all__ = [
    "ImapConfig",
    "ImapSource",
    "InboundHandler",
    "count_messages",
    "path_messages",
    "start_receiver",
    "stop_receiver",
]
