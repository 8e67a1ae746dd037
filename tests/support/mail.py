"""Recovery emails built with the standard library, for tests and the ingest benchmark."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import make_msgid

_counter = itertools.count(1)


def recovery_email(
    *,
    sender: str = "Alice Example <alice@example.com>",
    to: str = "website@huggingface.co",
    subject: str = "Lost my authenticator",
    body: str = "Hello, my username is alice and I lost my phone and my recovery codes.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    """``attachments`` are ``(filename, mime type, data)``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Sat, 28 Nov 2026 12:00:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(f"t{next(_counter)}", domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None and body is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    for filename, mime, data in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
