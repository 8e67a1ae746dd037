"""Who is asking, for the password throttle's per-client count: the web faces' client
address, read from the connection and, behind trusted reverse proxies, from
``X-Forwarded-For``."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

MAX_HOPS = 20
"""``X-Forwarded-For`` entries read, from the right: a real chain of proxies is a few hops,
and a client can send a header as long as the server lets it."""

IPV6_CLIENT_PREFIX = 64
"""An IPv6 client is counted by its /64: one host usually holds the whole /64 and can take
a fresh address from it for every guess."""

_LONGEST_HOP = 64


def parse_address(text: object) -> Address | None:
    """An address as a proxy or server writes it (``203.0.113.7``, ``203.0.113.7:4711``,
    ``2001:db8::1``, ``[2001:db8::1]:4711``), IPv4-mapped IPv6 read as IPv4; None for
    anything else (``unknown``, a host name, garbage, not a string at all)."""
    if not isinstance(text, str) or not text:
        return None
    text = text.strip().strip('"')
    if not text or len(text) > _LONGEST_HOP:
        return None
    port = ""
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        return None
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _last_hops(forwarded_for: str | Iterable[str] | None) -> Iterable[str]:
    """At most ``MAX_HOPS`` entries, right to left; repeated header lines are one list, in
    the order they came."""
    if not forwarded_for:
        return
    lines = [forwarded_for] if isinstance(forwarded_for, str) else list(forwarded_for)
    taken = 0
    for line in reversed(lines):
        if not isinstance(line, str):
            yield ""
            return
        for hop in reversed(line.rsplit(",", MAX_HOPS)[-MAX_HOPS:]):
            yield hop
            taken += 1
            if taken == MAX_HOPS:
                return


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def _identity(address: Address, kind: str = "web") -> str:
    if isinstance(address, IPv6Address):
        return f"{kind}:{IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)}"
    return f"{kind}:{address}"


def peer_client(kind: str, host: str | None) -> str | None:
    """The throttle's client for a connection seen directly (``ssh:203.0.113.7``,
    ``ssh:2001:db8::/64``): the same grouping as ``web_client``; None without an address."""
    address = parse_address(host)
    return None if address is None else _identity(address, kind)


def web_client(
    peer: str | None,
    forwarded_for: str | Iterable[str] | None,
    trusted_proxies: Iterable[Network],
) -> str | None:
    """The throttle's client for a web sign-in (``web:203.0.113.7``, ``web:2001:db8::/64``),
    or None when no address is known. ``X-Forwarded-For`` is believed only from a trusted
    ``peer``, and only the entries trusted proxies appended: it is read from the right past
    trusted addresses to the first untrusted one, since whatever lies left of that the client
    wrote itself. An entry that is not an address ends the walk at the last trusted hop."""
    address = parse_address(peer)
    if address is None:
        return None
    networks = tuple(trusted_proxies)
    if _trusted(address, networks):
        for hop in _last_hops(forwarded_for):
            hop_address = parse_address(hop)
            if hop_address is None:
                break
            address = hop_address
            if not _trusted(address, networks):
                break
    return _identity(address)
