"""Issue #10 item 5: every mail-controlled string (subject, sender name, flag reason,
expander labels, attachment names) is shown as literal text. A Markdown body Streamlit
renders must hold no image or link, nothing GFM would auto-link, and still read as the
mail's own characters.

Streamlit renders with remark-gfm, whose autolinks are found by regular expressions in the
decoded text of each text node (``mdast-util-gfm-autolink-literal``); ``gfm_autolinks``
runs those expressions on markdown-it's decoded text the same way."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from backoffice.markdown_text import literal
from core.inbound import ingest_bytes
from core.store import session_scope
from tests.backoffice.staff.conftest import shown, sign_in
from tests.backoffice.staff.hostile_ticket import MAIL_TEXTS, SUBJECT, hostile_email

MARKDOWN_KINDS = ("title", "header", "subheader", "markdown", "caption")
MARKDOWN_KINDS += ("info", "warning", "error", "success")
GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE)
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")
commonmark = MarkdownIt("commonmark")


def markdown_bodies(at) -> list[str]:
    """Every string the app handed to Streamlit's Markdown renderer on this run."""
    bodies = [str(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind)]
    bodies += [e.label for e in at.expander]
    bodies += [m.label for m in at.metric]
    return bodies


def rendered_links(body: str) -> list[str]:
    tokens = commonmark.parse(body)
    found = []
    for token in tokens:
        for child in token.children or []:
            if child.type in ("image", "link_open"):
                found.append(child.attrGet("src") or child.attrGet("href"))
    return found


def gfm_autolinks(body: str) -> list[str]:
    """What remark-gfm would turn into links in ``body``'s text."""
    found = []
    for token in commonmark.parse(body):
        text = "".join(c.content for c in token.children or [] if c.type == "text")
        found += [m.group(0) for m in GFM_URL.finditer(text)]
        found += [m.group(0) for m in GFM_EMAIL.finditer(text)]
    return found


def assert_literal(at) -> None:
    for body in markdown_bodies(at):
        assert rendered_links(body) == [], body
        assert gfm_autolinks(body) == [], f"would be auto-linked: {body!r}"
        assert "<img" not in body and ":red[" not in body, body


@pytest.fixture
def hostile_ticket(world) -> int:
    with session_scope(world.engine) as s:
        outcome = ingest_bytes(s, hostile_email(), source="test")
    return outcome.ticket_id


@pytest.mark.parametrize(
    "text",
    [
        "![x](http://t.example/p.png)",
        "[a](https://b.example) <b>c</b> :red[d] $e$ :material/home: www.f.example g@h.example",
        "line\nbreak ***x*** `code` ~~s~~ # h \\ |t|",
    ],
)
def test_literal_renders_no_link_and_reads_back_exactly(text):
    escaped = literal(text)
    assert rendered_links(escaped) == []
    assert gfm_autolinks(escaped) == []
    assert shown(escaped) == text.replace("\n", " ")
    plain = commonmark.render(escaped)
    assert "<a " not in plain and "<img" not in plain and "<b>" not in plain


def test_the_autolink_model_catches_what_escaping_alone_misses():
    escaped_only = "mail dave\\@example\\.org or http\\:\\/\\/t\\.example"
    assert sorted(gfm_autolinks(escaped_only)) == ["dave@example.org", "http://t.example"]


def test_ticket_page_shows_mail_text_literally(world, hostile_ticket):
    at = sign_in(world, "ann")
    assert_literal(at)
    at.query_params["ticket"] = str(hostile_ticket)
    at.switch_page("views/ticket.py").run()
    assert not at.exception, at.exception
    assert_literal(at)
    visible = "\n".join(shown(b) for b in markdown_bodies(at))
    visible += "\n".join(str(e.value) for kind in ("text", "code") for e in getattr(at, kind))
    for text in MAIL_TEXTS:
        assert text in visible, text
    assert at.title[0].value == f"#{hostile_ticket} · {literal(SUBJECT)}"
    assert not at.get("html")


def test_queue_and_mail_pages_show_mail_text_literally(world, hostile_ticket):
    at = sign_in(world, "ada")
    assert SUBJECT in list(at.dataframe[0].value["Subject"])
    assert_literal(at)
    at.switch_page("views/mail.py").run()
    assert not at.exception, at.exception
    assert_literal(at)
