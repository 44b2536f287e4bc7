"""Who the client is: the direct peer, unless the peer is a trusted proxy (TRUSTED_PROXIES), and
only then X-Forwarded-For. The audit log, the login throttle and the rate limits all use this."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")


@lru_cache(maxsize=8)
def networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted proxies as networks (settings validated them at start)."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def is_trusted(address: str | None, trusted: Iterable[Network]) -> bool:
    """Whether `address` is one of the trusted proxies."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in trusted)


def client_address(
    peer: str | None, headers: Mapping[str, str], trusted: tuple[Network, ...]
) -> str:
    """The client's address: the peer, or, from a trusted proxy, the nearest untrusted hop of
    X-Forwarded-For (read from the right: the hops on the left are the client's to forge)."""
    address = peer or "unknown"
    if not trusted or not is_trusted(peer, trusted):
        return address
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # garbage from the client: the last hop we can vouch for
        address = hop
        if not is_trusted(hop, trusted):
            return hop
    return address
