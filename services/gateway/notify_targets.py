"""Where merchant notifications may be sent: never into the platform's own network (SSRF).

A notifyUrl is chosen by whoever holds an app secret, and the gateway POSTs to it from inside
the mesh, so a URL at a loopback, private, link-local, unspecified, reserved or multicast address
would let a merchant probe or poke internal services. Such URLs are refused twice:

- when the order or refund is created, without any DNS lookup: IP literals in every form the
  resolver accepts (``127.1``, ``2130706433``, ``0x7f.1``, ``[::1]``) and ``localhost`` names;
- when each notification is delivered, after resolving the host with the event loop's
  ``getaddrinfo``: every address it resolves to must be public.

An app the operator marked ``allow_private_notify_url`` (the demo app; merchants on a private
network) skips both checks. Redirects are never followed, so a public URL cannot bounce the POST
inward. A host that resolves differently between the check and the connection (DNS rebinding)
is not pinned; the window is one lookup wide.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

PRIVATE_TARGET = "notify_url points at a private address"
RESOLVE_TIMEOUT_SECONDS = 5.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_private_address(address: IPAddress) -> bool:
    """True for every address a merchant notification must not reach."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local
            or address.is_unspecified or address.is_reserved or address.is_multicast
            or not address.is_global)


def _is_localhost_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def numeric_address(host: str) -> IPAddress | None:
    """The address an IP literal names, in any form the resolver accepts; None for a name."""
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    try:
        return ipaddress.ip_address(str(infos[0][4][0]).split("%", 1)[0])
    except (ValueError, IndexError):
        return None


def literal_private_host(url: str) -> bool:
    """True when the URL's host is private without asking DNS (an IP literal or localhost)."""
    host = urlsplit(url).hostname or ""
    if _is_localhost_name(host):
        return True
    address = numeric_address(host)
    return address is not None and is_private_address(address)


async def resolves_private(url: str) -> bool:
    """True when the URL's host is, or resolves to, any private address.

    Raises OSError (or TimeoutError) when the name cannot be resolved: that is a failed
    attempt to retry, not a refusal.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_localhost_name(host):
        return True
    literal = numeric_address(host)
    if literal is not None:
        return is_private_address(literal)
    loop = asyncio.get_running_loop()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS)
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    return any(is_private_address(ipaddress.ip_address(a)) for a in addresses) or not addresses
