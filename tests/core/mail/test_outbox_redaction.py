"""No token leaves in an outbox row, whichever way ``outbox_values`` redacts: its bodies after
rendering, or (for a template that keeps its values apart) the values before."""

from __future__ import annotations

import pytest

from core.accounts.token_text import find_tokens
from core.mail.outbox import keeps_values_apart, outbox_values, values_stand_apart
from core.mail.render import template_names
from core.mail.samples import sample_context

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"
LETTERS = TOKEN[3:]


@pytest.mark.parametrize(
    ("source", "apart"),
    [
        ("Hi {{ name }},", True),
        ('Hi {{ name or "there" }},', True),
        ("[#{{ n }}] <p>{{ a }}</p>\n{{ b }}", True),
        ("{{ a }} and then more words", True),
        ("hf_{{ a }}", False),  # the value's letters would follow the prefix
        ("hf {{ a }}", False),
        ("HF:{{ a }}", False),
        ("x{{ a }}", False),
        ("{{ a }}x", False),
        ("{{ a }}{{ b }}", False),  # two values would join
        ("{{ a }} " + LETTERS, False),  # a value ending in hf would prefix these letters
        ("<b>{{ a }}</b>x", False),  # inline markup joins what a reader sees
        ("{{ a }}*x", False),
        ("&#104;{{ a }}", False),  # an entity may be a letter
        ('<a href="{{ a }}">x</a>', False),  # inside a tag, which the reading sets aside
        ("<!-- {{ a }} -->", False),
        ("{{ a|upper }}", False),
        ("{{ a ~ b }}", False),
        ("{% if a %}{{ a }}{% endif %}", False),
    ],
)
def test_a_value_counts_as_apart_only_where_no_token_can_run_across_it(source, apart):
    assert keeps_values_apart(source) is apart


def test_the_acknowledgement_keeps_its_values_apart():
    """The email ingestion writes by the thousand takes the cheap path; a template edit that
    lets a value touch its text makes it fall back to reading the bodies (still safe)."""
    assert values_stand_apart("ticket_received")


@pytest.mark.parametrize("name", template_names())
@pytest.mark.parametrize(
    "value",
    [TOKEN, LETTERS, f"x {TOKEN.upper()} y", f"hf {LETTERS}", f"<b>hf_</b>{LETTERS}", "hf"],
)
def test_no_token_in_a_value_reaches_the_outbox_row(name, value):
    context = {k: value if isinstance(v, str) else v for k, v in sample_context(name).items()}
    row = outbox_values(template=name, to="user@example.com", context=context)
    for column in ("subject", "body_text", "body_html"):
        assert not find_tokens(row[column]), (column, row[column])


def test_values_remembered_as_clean_are_only_those_without_a_token():
    """The acknowledgements of an ingest share values, so a value found clean is not read
    again; a value holding a token is masked on every render and never kept."""
    from core.mail import outbox

    outbox._token_free.clear()
    clean = "Sign with ssh-keygen -Y sign"
    assert outbox._redact_value(clean) == clean
    assert outbox._redact_value(f"my token {TOKEN}") == f"my token {outbox.redact_tokens(TOKEN)}"
    assert outbox._redact_value(f"my token {TOKEN}") != f"my token {TOKEN}"  # masked again
    assert list(outbox._token_free) == [clean]
    for n in range(outbox.TOKEN_FREE_KEPT + 5):
        outbox._redact_value(f"subject {n}")
    assert len(outbox._token_free) == outbox.TOKEN_FREE_KEPT
    assert clean not in outbox._token_free  # the oldest went first
