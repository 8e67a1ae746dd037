"""The web client the password throttle counts: the connection's address, or behind trusted
proxies the first untrusted address of X-Forwarded-For read from the right; a header from
anyone else is ignored, garbage ends the walk, and a huge header costs a bounded walk."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from core.settings import Settings
from core.twofactor.client_address import MAX_HOPS, parse_address, peer_client, web_client

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]
EDGE = "10.0.0.2"
"""A trusted proxy that connects to the app."""


def test_a_direct_connection_is_the_client():
    assert web_client("203.0.113.7", None, PROXIES) == "web:203.0.113.7"
    assert web_client("203.0.113.7", None, []) == "web:203.0.113.7"


def test_no_address_is_no_client():
    assert web_client(None, None, PROXIES) is None
    assert web_client(None, "203.0.113.7", PROXIES) is None, "no peer: nothing to trust"
    assert web_client("", "", PROXIES) is None
    assert web_client("not-an-address", None, PROXIES) is None


def test_an_untrusted_peer_cannot_name_another_client():
    spoofed = "198.51.100.1, 10.0.0.3"
    assert web_client("203.0.113.7", spoofed, PROXIES) == "web:203.0.113.7"
    assert web_client("203.0.113.7", ["198.51.100.1"], PROXIES) == "web:203.0.113.7"


def test_no_trusted_proxies_means_the_header_is_never_read():
    assert web_client(EDGE, "203.0.113.7", []) == f"web:{EDGE}"


def test_one_trusted_proxy():
    assert web_client(EDGE, "203.0.113.7", PROXIES) == "web:203.0.113.7"


def test_several_trusted_hops_are_walked_from_the_right():
    chain = "203.0.113.7, 10.1.1.1, 10.2.2.2"
    assert web_client(EDGE, chain, PROXIES) == "web:203.0.113.7"


def test_what_the_client_wrote_left_of_the_first_untrusted_address_is_ignored():
    """The client sent ``X-Forwarded-For: 10.9.9.9, 198.51.100.1``; the proxy appended the
    address it saw. A right-to-left walk stops at that address; a left-to-right one would
    believe the client's own words."""
    chain = "10.9.9.9, 198.51.100.1, 203.0.113.7"
    assert web_client(EDGE, chain, PROXIES) == "web:203.0.113.7"


def test_repeated_header_lines_are_one_list_in_order():
    lines = ["198.51.100.1", "203.0.113.7, 10.1.1.1"]
    assert web_client(EDGE, lines, PROXIES) == "web:203.0.113.7"
    assert web_client(EDGE, ["203.0.113.7", "10.1.1.1"], PROXIES) == "web:203.0.113.7"


def test_a_chain_of_only_trusted_hops_ends_at_the_farthest():
    assert web_client(EDGE, "10.1.1.1, 10.2.2.2", PROXIES) == "web:10.1.1.1"


def test_an_empty_header_from_a_trusted_proxy_leaves_the_proxy():
    assert web_client(EDGE, "", PROXIES) == f"web:{EDGE}"
    assert web_client(EDGE, [], PROXIES) == f"web:{EDGE}"
    assert web_client(EDGE, " , ", PROXIES) == f"web:{EDGE}"


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ("203.0.113.7, unknown", EDGE),
        ("203.0.113.7, evil.example", EDGE),
        ("203.0.113.7, unknown, 10.1.1.1", "10.1.1.1"),
        ("203.0.113.7, <script>, 10.1.1.1", "10.1.1.1"),
        ("203.0.113.7, 999.1.1.1, 10.1.1.1", "10.1.1.1"),
        ("203.0.113.7, " + "1" * 5000 + ", 10.1.1.1", "10.1.1.1"),
        ("\x00\xff, 10.1.1.1", "10.1.1.1"),
    ],
)
def test_garbage_ends_the_walk_at_the_last_trusted_hop(chain, expected):
    assert web_client(EDGE, chain, PROXIES) == f"web:{expected}"


def test_what_is_not_text_is_no_address():
    """Under ``AppTest`` Streamlit's ``st.context.ip_address`` is a mock object."""
    assert web_client(object(), None, PROXIES) is None  # type: ignore[arg-type]
    assert web_client(EDGE, [b"203.0.113.7"], PROXIES) == f"web:{EDGE}"  # type: ignore[list-item]


def test_garbage_left_of_the_client_is_never_reached():
    assert web_client(EDGE, "unknown, 203.0.113.7", PROXIES) == "web:203.0.113.7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:4711", "203.0.113.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[::ffff:cb00:7107]:80", "203.0.113.7"),
        ("unknown", None),
        ("203.0.113.7:port", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]x", None),
        ("[2001:db8::1]:https", None),
        ("_hidden", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_read_as_proxies_write_them(text, expected):
    address = parse_address(text)
    assert (str(address) if address is not None else None) == expected


def test_ipv4_mapped_addresses_are_the_same_client_and_match_ipv4_proxies():
    assert web_client("::ffff:203.0.113.7", None, []) == "web:203.0.113.7"
    assert web_client("::ffff:10.0.0.2", "::ffff:203.0.113.7", PROXIES) == "web:203.0.113.7"


def test_an_ipv6_client_is_counted_by_its_64():
    """A host that holds a /64 must not get a fresh budget for each of its addresses."""
    one = web_client("2001:db8:1:2::1", None, PROXIES)
    other = web_client("2001:db8:1:2:aaaa:bbbb:cccc:dddd", None, PROXIES)
    assert one == other == "web:2001:db8:1:2::/64"
    assert web_client("2001:db8:1:3::1", None, PROXIES) == "web:2001:db8:1:3::/64"


def test_ipv6_proxies_and_clients():
    proxy = "2001:db8:ffff::5"
    assert web_client(proxy, "2001:db8:1:2::9, 2001:db8:ffff::6", PROXIES) == (
        "web:2001:db8:1:2::/64"
    )
    assert web_client(proxy, "203.0.113.7", PROXIES) == "web:203.0.113.7"
    assert web_client(EDGE, "[2001:db8:1:2::9]:443", PROXIES) == "web:2001:db8:1:2::/64"


def test_a_huge_header_is_read_only_at_its_end():
    """Every hop trusted: the walk stops after ``MAX_HOPS`` entries, at the farthest it read."""
    hops = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(100_000)]
    assert web_client(EDGE, ", ".join(hops), PROXIES) == f"web:{hops[-MAX_HOPS]}"
    assert web_client(EDGE, hops, PROXIES) == f"web:{hops[-MAX_HOPS]}", "one hop per line"
    huge = "203.0.113.7, " * 200_000 + "198.51.100.1"
    assert web_client(EDGE, huge, PROXIES) == "web:198.51.100.1"


def test_the_huge_header_walk_parses_at_most_the_bound(monkeypatch):
    import core.twofactor.client_address as module

    seen = []
    real = module.parse_address
    monkeypatch.setattr(module, "parse_address", lambda text: seen.append(text) or real(text))
    web_client(EDGE, ", ".join(["10.1.1.1"] * 10_000), PROXIES)
    assert len(seen) == 1 + MAX_HOPS, "the peer, then the last MAX_HOPS entries"


def test_the_setting_reads_a_comma_list_of_networks(monkeypatch):
    monkeypatch.setenv(
        "BACKOFFICE_TRUSTED_PROXIES", " 10.0.0.0/8, 2001:db8::/32,192.0.2.7 ,::ffff:10.0.0.0/104,"
    )
    assert Settings().trusted_proxies == [
        ip_network("10.0.0.0/8"),
        ip_network("2001:db8::/32"),
        ip_network("192.0.2.7/32"),
        ip_network("10.0.0.0/8"),
    ]
    monkeypatch.delenv("BACKOFFICE_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []


def test_a_mapped_proxy_network_trusts_the_ipv4_peer(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TRUSTED_PROXIES", "::ffff:10.0.0.0/104")
    proxies = Settings().trusted_proxies
    assert web_client(EDGE, "203.0.113.7", proxies) == "web:203.0.113.7"


@pytest.mark.parametrize("value", ["10.0.0.1/8", "nope", "10.0.0.0/33", "10.0.0.0/8;192.0.2.0/24"])
def test_a_malformed_network_is_named(monkeypatch, value):
    from pydantic import ValidationError

    from backoffice.cli.common import describe_failure

    monkeypatch.setenv("BACKOFFICE_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError) as error:
        Settings()
    line = describe_failure(error.value)
    assert line.startswith("Invalid setting: BACKOFFICE_TRUSTED_PROXIES: ")
    assert "10.0.0.0/8, 2001:db8::/32" in line and "\n" not in line


@pytest.mark.parametrize(
    "host,client",
    [
        ("203.0.113.7", "ssh:203.0.113.7"),
        ("::ffff:203.0.113.7", "ssh:203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "ssh:2001:db8:1:2::/64"),
        ("", None),
        (None, None),
    ],
)
def test_a_direct_peer_is_grouped_like_a_web_client(host, client):
    """The SSH recovery service counts its peers as the web faces count theirs: an IPv6
    guesser moving inside its /64 stays one client."""
    assert peer_client("ssh", host) == client
