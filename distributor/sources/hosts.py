"""Which hosts a fetch may reach: an allow-list of names and no private addresses (SSRF guard).

    policy = HostPolicy(allow_hosts=("www.example.de", "*.example.de"))
    session = guarded_session(policy)      # a requests.Session for `files.fetch_url`

The check runs inside the connection itself, for every connection the session opens (redirects
included): the host name must match the allow-list, the name is resolved once, EVERY address it
resolves to must be public (not loopback, private, link-local, shared, reserved or multicast),
and the socket then connects to one of exactly those checked addresses. No second DNS lookup
happens between check and connect, so a rebinding DNS server cannot swap in 127.0.0.1.
TLS still verifies the certificate against the host name. Proxies from the environment are
not used (a proxy would be the only address checked).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Resolver = Callable[[str, int], Sequence[str]]


class HostRefused(Exception):
    """A fetch was refused before connecting; the message says why (no URL, callers add it)."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in resolver order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
        try:
            found = list(self.resolve(host.rstrip("."), port))
        except OSError as exc:
            raise HostRefused(f"cannot resolve host {host!r} ({exc})") from None
        if not found:
            raise HostRefused(f"host {host!r} has no address")
        if not self.allow_private:
            private = [a for a in found if not is_public(a)]
            if private:
                raise HostRefused(
                    f"host {host!r} resolves to the non-public address {private[0]} "
                    f"(set {self.table} allow_private = true to allow it)"
                )
        return found


def guarded_session(policy: HostPolicy) -> Any:
    """A requests.Session whose every connection goes through `policy` (no env proxies)."""
    import requests

    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    adapter = _adapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _adapter(policy: HostPolicy) -> Any:
    from requests.adapters import HTTPAdapter
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    http_conn, https_conn = _connection_classes(policy)
    pools = {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return GuardedAdapter(max_retries=0)


def _connection_classes(policy: HostPolicy) -> tuple[type, type]:
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    from urllib3.util.connection import create_connection

    def new_conn(self: Any) -> socket.socket:
        last: Exception | None = None
        for address in policy.addresses(self.host, self.port):
            try:
                return create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                last = ConnectTimeoutError(self, f"connection to {self.host} timed out ({exc})")
            except OSError as exc:
                last = NewConnectionError(self, f"failed to connect to {self.host}: {exc}")
        assert last is not None
        raise last

    return (
        type("GuardedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn}),
        type("GuardedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn}),
    )
