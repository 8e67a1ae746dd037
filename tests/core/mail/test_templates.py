"""Every email renders from its sample data with StrictUndefined, on the shared layout, with
HTML autoescaped."""

from __future__ import annotations

import pytest

from core.mail.render import render_email, template_names
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
