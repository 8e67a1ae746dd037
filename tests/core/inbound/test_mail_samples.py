"""Every MIME branch (issue #11, class 2) and senders (class 3), on the project's samples
(``tests/data/mail``, see its README) and crafted mail: attachments and evidence from
every branch, the body picked the way ``get_body`` picks it, a malformed multipart keeps
its text, and a sender is a valid address or the message says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.inbound.classify import classify
from core.inbound.evidence import extract_evidence
from core.inbound.parsing import UnparseableMessage, parse_message
from core.inbound.senders import choose_sender, is_addr_spec

DATA = Path(__file__).parents[2] / "data" / "mail"


def sample(name: str):
    return parse_message((DATA / name).read_bytes(), max_bytes=1_000_000)


def evidence_kinds(parsed) -> set[str]:
    items = extract_evidence(parsed.evidence_texts(), claim_texts=parsed.claim_texts())
    return {i.kind for i in items}


def test_a_key_attached_inside_apple_mails_alternative_is_listed_and_read():
    p = sample("apple-mail-key-in-alternative.eml")
    assert [a.filename for a in p.attachments] == ["id_ed25519.pub"]
    assert "ssh_public_key" in evidence_kinds(p)
    assert p.body_text.startswith("Hello, my username is alice")
    assert "<html>" not in p.body_text and p.body_text.count("username") == 1


def test_a_signature_file_in_an_unchosen_alternative_is_kept():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
        b"--A\r\nContent-Type: multipart/related; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: text/html\r\n\r\n<p>html text</p>\r\n"
        b"--R\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="challenge.sig"\r\n\r\n'
        b"-----BEGIN SSH SIGNATURE-----\r\nAAAA\r\n-----END SSH SIGNATURE-----\r\n"
        b"--R--\r\n--A--\r\n"
    )
    p = parse_message(raw, max_bytes=100_000)
    assert p.body_text == "plain text"
    (sig,) = p.attachments
    assert sig.filename == "challenge.sig" and "BEGIN SSH SIGNATURE" in sig.text


def test_alternative_without_plain_text_uses_the_html_branch():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n"
        b"--A\r\nContent-Type: text/html\r\n\r\n<p>only <b>html</b></p>\r\n--A--\r\n"
    )
    p = parse_message(raw, max_bytes=100_000)
    assert "only **html**" in p.body_text


def test_related_body_is_its_start_part_and_the_rest_are_attachments():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/related; boundary=R; "
        b'start="<root@x>"\r\n\r\n'
        b"--R\r\nContent-Type: image/png\r\nContent-ID: <img@x>\r\n\r\nPNG\r\n"
        b"--R\r\nContent-Type: text/html\r\nContent-ID: <root@x>\r\n\r\n<p>root</p>\r\n--R--\r\n"
    )
    p = parse_message(raw, max_bytes=100_000)
    assert p.body_text.strip() == "root"
    assert [a.content_type for a in p.attachments] == ["image/png"]


def test_mixed_bodies_split_around_an_inline_image_are_all_kept():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n"
        b"--M\r\nContent-Type: text/plain\r\n\r\nbefore the picture\r\n"
        b"--M\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n\r\nPNG\r\n"
        b"--M\r\nContent-Type: text/plain\r\n\r\nafter the picture\r\n--M--\r\n"
    )
    p = parse_message(raw, max_bytes=100_000)
    assert "before the picture" in p.body_text and "after the picture" in p.body_text


def test_an_inline_named_text_part_is_the_body_when_it_is_the_only_text():
    p = sample("inline-named-text-only.eml")
    assert p.body_text.startswith("My username is bobby")
    assert [a.filename for a in p.attachments] == ["note.txt", "résumé.pdf"]
    claimed = extract_evidence(p.evidence_texts(), claim_texts=p.claim_texts())
    assert ("claimed_username", "bobby") in {(i.kind, i.value) for i in claimed}


def test_a_named_text_part_beside_a_body_stays_an_attachment():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n"
        b"--M\r\nContent-Type: text/plain\r\n\r\nthe body\r\n"
        b'--M\r\nContent-Type: text/plain; name="log.txt"\r\n\r\nlog lines\r\n--M--\r\n'
    )
    p = parse_message(raw, max_bytes=100_000)
    assert p.body_text == "the body"
    assert [(a.filename, a.text) for a in p.attachments] == [("log.txt", "log lines")]


def test_a_multipart_whose_boundary_never_comes_keeps_its_text_and_evidence():
    p = sample("malformed-multipart-no-boundary.eml")
    assert "this multipart never starts" in p.body_text
    assert "ssh_public_key" in evidence_kinds(p)


def test_a_nested_multipart_reusing_its_parents_boundary_keeps_the_text():
    p = sample("outlook-express-same-boundary.eml")
    assert "Brugernavn: jensen" in p.body_text


@pytest.mark.parametrize(
    "value,valid",
    [
        ("alice@example.com", True),
        ("root@localhost", True),
        ('"a b"@example.com', True),
        ("a@[127.0.0.1]", True),
        ("zoë@example.de", True),
        ("Test test@example.com", False),
        ("power quadrant system@example.com", False),
        ("Claudia.Shu@yahoo.com.", False),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("mailer-daemon", False),
        ("", False),
        ("a@b@c", False),
        ("x" * 65 + "@example.com", False),
        ("a@" + "b" * 64 + ".com", False),
    ],
)
def test_addr_spec(value, valid):
    assert is_addr_spec(value) is valid


def test_the_first_valid_from_is_the_sender():
    p = sample("several-from-headers.eml")
    assert (p.from_addr, p.from_name, p.sender_problem) == (
        "frank@example.com",
        "123@abuse.net",
        None,
    )
    sender = choose_sender(["Bob <bob@example.org>, carol@example.org"])
    assert sender.addr == "bob@example.org"


@pytest.mark.parametrize(
    "from_value",
    ["Test test@example.com", "power quadrant system@example.com", "Claudia.Shu@yahoo.com."],
)
def test_an_invalid_sender_is_kept_with_the_reason(from_value):
    raw = f"From: {from_value}\r\nSubject: help\r\n\r\nmy username is x\r\n".encode()
    p = parse_message(raw, max_bytes=100_000)
    assert p.sender_problem and "not an email address" in p.sender_problem
    assert p.from_addr == from_value.lower()
    assert classify(p).kind == "request"


def test_delivery_reports_are_bounces_before_any_sender_check():
    dsn = sample("postfix-dsn-mailer-daemon.eml")
    assert dsn.sender_problem is not None
    assert classify(dsn).kind == "bounce"
    assert dsn.original_message_ids == ["<ack-1@huggingface.co>"]
    null = parse_message(b"From: <>\r\nSubject: failure\r\n\r\nundeliverable\r\n", max_bytes=1000)
    assert classify(null).kind == "bounce"


def test_a_request_without_any_sender_is_unparseable():
    with pytest.raises(UnparseableMessage, match="sender"):
        parse_message(b"Subject: who\r\n\r\nnobody wrote this\r\n", max_bytes=1000)
