"""Log lines of long-running commands: text or one JSON object per line, with addresses and
access tokens masked whatever the logger (ours, aiosmtpd's, a traceback)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.workers.log_format import configure_logging, mask_address

TOKEN = "hf_" + "abcdefghijklmnopqrstuvwxyzABCD" + "WXYZ"


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def configure(fmt: str) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(fmt, level="DEBUG", stream=stream)
        return stream

    yield configure
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_json_lines_carry_time_level_logger_message_and_extra_fields(captured):
    stream = captured("json")
    logging.getLogger("core.test").warning("relay %s down", "smtp.example", extra={"kind": "x"})
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and entry["logger"] == "core.test"
    assert entry["message"] == "relay smtp.example down" and entry["kind"] == "x"
    assert entry["time"].endswith("+00:00") and isinstance(entry["pid"], int)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_addresses_and_tokens_never_reach_the_log(captured, fmt):
    stream = captured(fmt)
    log = logging.getLogger("core.test")
    log.info("from %s to <%s>", "alice.smith+2fa@example.com", "website@huggingface.co")
    log.error("token %s in a reply", TOKEN)
    try:
        raise ValueError(f"bad sender bob@example.org with {TOKEN}")
    except ValueError:
        log.exception("could not store")
    out = stream.getvalue()
    for secret in ("alice.smith+2fa@example.com", "website@huggingface.co", "bob@example.org"):
        assert secret not in out
    assert TOKEN not in out and "WXYZ" in out  # the last four stay, as everywhere
    assert "a***@example.com" in out and "b***@example.org" in out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert len(lines) == 3 and "ValueError" in lines[2]["exception"]


def test_aiosmtpd_per_command_lines_are_silenced_but_its_warnings_stay(captured):
    stream = captured("text")
    logging.getLogger("mail.log").info("('127.0.0.1', 5) sender: alice@example.com")
    logging.getLogger("mail.log").warning("too many bogus commands")
    assert stream.getvalue().count("\n") == 1 and "bogus" in stream.getvalue()


def test_mask_address_keeps_the_first_letter_and_the_domain():
    assert mask_address("alice@example.com") == "a***@example.com"
    assert mask_address("") == "<>"
    assert mask_address("not an address") == "not an address"


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="text, json"):
        configure_logging("xml")
