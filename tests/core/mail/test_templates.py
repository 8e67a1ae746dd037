"""Every email renders from its sample data with StrictUndefined, on the shared layout, with
HTML autoescaped."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from core.mail.render import plain_template, render_email, template_environment, template_names
from core.mail.samples import sample_context

REQUIRED = {
    "approved",
    "approved_requester",
    "denied",
    "more_information_needed",
    "two_factor_enabled",
    "two_factor_disabled",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "two_factor_reset",
}


def test_every_required_email_exists_and_the_layout_is_not_listed():
    names = set(template_names())
    assert names >= REQUIRED
    assert not any(n.startswith("_") for n in names)


@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_from_its_sample(name):
    rendered = render_email(name, sample_context(name))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "<html" in rendered.html.lower()


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_our_emails_share_the_layout_footer(name):
    rendered = render_email(name, sample_context(name))
    assert "Hugging Face Support" in rendered.text
    assert "max-width:560px" in rendered.html


def test_a_missing_variable_is_an_error_not_a_blank():
    context = sample_context("denied")
    del context["reason"]
    with pytest.raises(Exception, match="reason"):
        render_email("denied", context)


def test_user_text_is_escaped_in_html_but_kept_in_text():
    context = sample_context("denied") | {"requester_name": "<script>x</script>"}
    rendered = render_email("denied", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>x</script>" in rendered.text


def test_the_approval_email_names_the_revoked_tokens_and_the_requester_copy_names_nothing():
    approved = render_email("approved", sample_context("approved"))
    assert "reset two-factor authentication" in approved.text
    assert "laptop (hf_…wXyZ)" in approved.text and "revoked" in approved.text
    requester = render_email("approved_requester", sample_context("approved_requester"))
    assert "ada-lovelace" not in requester.text + requester.html


HOSTILE = ["<b>&'\"</b>", "", None, 0, 7, "{{ x }}", "{% if %}", Markup("<i>ok</i>"), "ünï\r\nx"]


@pytest.mark.parametrize("name", template_names())
def test_a_plain_template_renders_exactly_as_jinja_does(name):
    env = template_environment()
    sample = sample_context(name)
    for part in ("subject.txt", "body.txt", "body.html"):
        path = f"{name}/{part}"
        plain = plain_template(path)
        if plain is None:
            continue
        for key in [None, *sample]:
            for value in HOSTILE if key else [None]:
                context = sample if key is None else sample | {key: value}
                assert plain.render(context) == env.get_template(path).render(context)


def test_the_acknowledgement_renders_without_jinja_and_a_template_with_blocks_with_it():
    assert all(
        plain_template(f"ticket_received/{part}")
        for part in ("subject.txt", "body.txt", "body.html")
    )
    assert plain_template("approved/body.txt") is None


def test_a_missing_value_of_a_plain_template_is_still_named():
    context = sample_context("ticket_received")
    del context["hub_url"]
    with pytest.raises(Exception, match="hub_url"):
        render_email("ticket_received", context)
