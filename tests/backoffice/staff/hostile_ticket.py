"""A recovery email whose every mail-controlled field carries Markdown, HTML, Streamlit
directives and remote image links, for the tests that check staff see it literally and
that the browser fetches nothing from a mail-supplied URL."""

from __future__ import annotations

from email.message import EmailMessage

TRACKER = "tracker.example"
SUBJECT = (
    f'=HYPERLINK("http://{TRACKER}/x","open") ![pixel](http://{TRACKER}/subject.png) '
    "**bold** :red[red] $x^2$ [link](https://phish.example/login)"
)
NAME = f"![n](http://{TRACKER}/name.png) **Boss**"
SENDER = "mallory@example.org"
ATTACHMENT = f"![a](http://{TRACKER}/attachment.png) :material/warning: www.phish.example.pub"
BODY = (
    "Hello, I lost my phone.\nUsername: alice\n"
    f"![body](http://{TRACKER}/body.png) <img src=http://{TRACKER}/img.png> "
    "visit www.phish.example\n"
)
MAIL_TEXTS = (SUBJECT, NAME, ATTACHMENT)
"""What must appear exactly as written somewhere on the ticket page."""


def hostile_email(*, tracker: str = TRACKER, message_id: str = "<hostile@example.org>") -> bytes:
    """The email; ``tracker`` replaces the tracking host (a browser test points it at a
    local server that records every hit)."""
    msg = EmailMessage()
    msg["From"] = f'"{NAME.replace(TRACKER, tracker)}" <{SENDER}>'
    msg["To"] = "website@huggingface.co"
    msg["Subject"] = SUBJECT.replace(TRACKER, tracker)
    msg["Message-ID"] = message_id
    msg.set_content(BODY.replace(TRACKER, tracker))
    msg.add_attachment(
        b"ssh-ed25519 AAAA not-a-key\n",
        maintype="text",
        subtype="plain",
        filename=ATTACHMENT.replace(TRACKER, tracker),
    )
    return msg.as_bytes()
