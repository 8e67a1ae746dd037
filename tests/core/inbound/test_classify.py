"""Automatic mail is recognised (and never answered)."""

from __future__ import annotations

import pytest

from core.inbound.classify import classify
from core.inbound.parsing import parse_message
from tests.conftest import corpus_bytes
from tests.support.mail import recovery_email


def kind_of(raw: bytes) -> str:
    return classify(parse_message(raw, max_bytes=10**7)).kind


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({}, "request"),
        ({"Auto-Submitted": "no"}, "request"),
        ({"Auto-Submitted": "auto-replied"}, "auto"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, "auto"),
        ({"X-Auto-Response-Suppress": "All"}, "auto"),
        ({"Precedence": "bulk"}, "auto"),
        ({"Precedence": "junk"}, "auto"),
        ({"Precedence": "list"}, "auto"),
        ({"List-Id": "<rt-users.lists.example.com>"}, "auto"),
        ({"Return-Path": "<>"}, "bounce"),
        ({"Return-Path": "<alice@example.com>"}, "request"),
    ],
)
def test_headers(headers, expected):
    assert kind_of(recovery_email(headers=headers)) == expected


def test_mailer_daemon_sender_is_a_bounce():
    assert kind_of(recovery_email(sender="MAILER-DAEMON@mx.example.com")) == "bounce"


def test_dsn_from_corpus_is_a_bounce():
    assert kind_of(corpus_bytes("multipart-report")) == "bounce"
