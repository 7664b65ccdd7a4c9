"""Which hosts a fetch may reach: an allow-list of names and no private addresses (SSRF guard).

    policy = HostPolicy(allow_hosts=("www.example.de", "*.example.de"))
    policy.addresses("www.example.de", 443)   # the checked addresses, or HostRefused

`distributor.fetch` (the one guarded HTTP client) runs this check inside every connection it
opens, redirects included: the host name must match the allow-list, the name is resolved once,
EVERY address it resolves to must be public (not loopback, private, link-local, shared, reserved
or multicast) and the socket connects to one of exactly those checked addresses, so a rebinding
DNS server cannot swap in 127.0.0.1. Numeric hosts in any spelling the C library accepts
(`0x7f000001`, `2130706433`, `127.1`, `[::ffff:127.0.0.1]`) are judged without a lookup, and
IPv6 addresses that carry an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16,
IPv4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d) are judged by the IPv4 address inside.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Resolver = Callable[[str, int], Sequence[str]]


class HostRefused(Exception):
    """A fetch was refused before connecting; the message says why (no URL, callers add it)."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in resolver order, without repeats."""
    import socket  # fetching is rare; loading the configuration (every CLI call) is not

    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, compatible, SIIT), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    value = int(ip)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in _NAT64 or value >> 32 == 0xFFFF0000:  # NAT64, SIIT ::ffff:0:a.b.c.d
        return low
    if value >> 32 == 0 and value > 1:  # IPv4-compatible ::a.b.c.d (:: and ::1 are not)
        return low
    return None


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4 inside IPv6 judged as that IPv4)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def numeric_host(host: str) -> str | None:
    """The address a numeric host name stands for (`0x7f000001` -> 127.0.0.1), else None."""
    name = host.strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not _NUMERIC.fullmatch(name):
        return None
    import socket

    try:  # the C library's own reading of short, octal and hex forms
        return socket.inet_ntoa(socket.inet_aton(name))
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Host names a fetch may reach (`*.example.de` = any subdomain, `*` = any public host)."""

    allow_hosts: tuple[str, ...] = ()
    allow_private: bool = False
    resolve: Resolver = system_resolve
    table: str = "[watch]"  # the settings table named in refusals, so users know what to change

    def allows_name(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        for pattern in self.allow_hosts:
            pattern = pattern.lower().rstrip(".")
            if pattern == "*" or pattern == name:
                return True
            if pattern.startswith("*.") and name.endswith(pattern[1:]):
                return True
        return False

    def check_name(self, host: str) -> None:
        """HostRefused unless the name is on the allow-list."""
        if not self.allows_name(host):
            raise HostRefused(f"host {host!r} is not allowed (add it to {self.table} allow_hosts)")

    def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to; HostRefused if any of them is not public."""
        self.check_name(host)
        literal = numeric_host(host)
        try:
            found = [literal] if literal else list(self.resolve(host.rstrip("."), port))
        except OSError as exc:
            raise HostRefused(f"cannot resolve host {host!r} ({exc})") from None
        if not found:
            raise HostRefused(f"host {host!r} has no address")
        if not self.allow_private:
            private = [a for a in found if not is_public(a)]
            if private:
                hint = f" (set {self.table} allow_private = true to allow it)" if self.table else ""
                raise HostRefused(
                    f"host {host!r} resolves to the non-public address {private[0]}{hint}"
                )
        return found
