"""The one guarded HTTP client: every outbound fetch of the project goes through `fetch`.

    rules = Rules(HostPolicy(("*.example.de",)), deadline=30.0, max_bytes=5 * 2**20)
    got = fetch("https://www.example.de/rss", rules)   # Fetched, or FetchError (one line)

Feeds, article pages, the webhook's `{"url": ...}` fetches, the admin preview and the article
images adapters upload all come through here, and each fetch enforces:
- the address policy on every connection, redirects included (`sources.hosts.HostPolicy`:
  allowed names, public addresses only, the socket connects to exactly the checked address so
  DNS rebinding cannot swap one in), at most `MAX_REDIRECTS` hops, no proxy or .netrc from the
  environment (a proxy would be the only address checked);
- a total deadline, connect to last byte over all hops: a watchdog shuts the fetch's sockets
  down when it passes, so a server dripping a byte every few seconds cannot stretch it;
- a size cap counted after decompression (no gzip bombs), a larger Content-Length refused first;
- a content-type check before the body is read (`Rules.types`).
In sandbox mode (`Rules.sandbox`) only loopback is reachable: other hosts are answered by the
sandbox's media route, as the demo needs. `send` is the one outbound POST (`distributor hook
send`, to the operator's own server). Platform adapters talk only to their configured API base
with their own sessions; tests/test_outbound.py fails if an HTTP client is used anywhere else.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from distributor.sources.hosts import HostPolicy, HostRefused

MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0  # one connection attempt; the deadline bounds the whole fetch
LOOPBACK = HostPolicy(("127.0.0.1", "localhost", "::1"), allow_private=True, table="")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
_local = threading.local()


class FetchError(Exception):
    """A fetch that failed or was refused; the message is one line without the URL.

    `retry`: the same request may work later (a timeout, a refused connection), as opposed to
    one that never can (a malformed URL, a refused address).
    """

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True, slots=True)
class Rules:
    """What one fetch may do: where to (`policy`), how long in all, how much, which types."""

    policy: HostPolicy
    deadline: float = 30.0  # seconds, connect to last byte, every redirect included
    max_bytes: int = 5 * 2**20
    types: tuple[str, ...] = ()  # accepted Content-Types (prefixes, e.g. "image/"); () any
    sandbox: str | None = None  # sandbox URL: non-loopback hosts go to its media route


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    url: str  # the final URL, after redirects
    status: int  # 304 (not modified) comes back with empty data
    content_type: str  # lower-case, parameters kept ("text/html; charset=utf-8")
    etag: str | None = None
    last_modified: str | None = None


def fetch(url: str, rules: Rules, *, headers: Mapping[str, str] | None = None) -> Fetched:
    """GET `url` under `rules`; FetchError (one line) for every refusal or failure."""
    import requests

    target = _sandboxed(url, rules.sandbox) if rules.sandbox else url
    policy = LOOPBACK if rules.sandbox else rules.policy
    with _Watchdog(rules.deadline) as dog, _session(policy) as session:
        try:
            got = _get(session, target, rules, headers or {}, dog)
        except HostRefused as exc:
            raise FetchError(str(exc)) from None
        except requests.TooManyRedirects:
            raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
        except requests.RequestException as exc:
            if dog.expired or isinstance(exc, requests.Timeout):
                raise FetchError(dog.message) from None
            raise FetchError(f"cannot fetch ({type(exc).__name__})") from None
        if dog.expired:  # a socket shut down by the watchdog can look like a clean end
            raise FetchError(dog.message)
        return got


def send(url: str, body: bytes, headers: Mapping[str, str], *, deadline: float) -> tuple[int, str]:
    """POST `body` to the operator's own endpoint (any host: the operator typed the URL)."""
    import requests

    policy = HostPolicy(("*",), allow_private=True, table="")
    with _Watchdog(deadline) as dog, _session(policy) as session:
        try:
            resp = session.post(url, data=body, headers=dict(headers), timeout=dog.timeouts())
            text = resp.text.strip()
        except requests.RequestException as exc:
            reason = dog.message if dog.expired else f"cannot send ({type(exc).__name__})"
            retry = dog.expired or isinstance(exc, requests.ConnectionError | requests.Timeout)
            raise FetchError(reason, retry=retry) from None
        if dog.expired:
            raise FetchError(dog.message, retry=True)
        return resp.status_code, text


def _get(
    session: Any, url: str, rules: Rules, headers: Mapping[str, str], dog: _Watchdog
) -> Fetched:
    from distributor import __version__

    sent = {"User-Agent": f"distributor/{__version__}", **headers}
    with session.get(url, headers=sent, timeout=dog.timeouts(), stream=True) as resp:
        if resp.status_code >= 400:
            raise FetchError(f"HTTP {resp.status_code} {resp.reason or ''}".rstrip())
        content_type = resp.headers.get("Content-Type", "").lower()
        if resp.status_code != 304:
            _check_type(content_type, rules.types)
        data = b"" if resp.status_code == 304 else _read_capped(resp, rules.max_bytes)
        return Fetched(
            data,
            resp.url,
            resp.status_code,
            content_type,
            resp.headers.get("ETag"),
            resp.headers.get("Last-Modified"),
        )


def _check_type(content_type: str, types: tuple[str, ...]) -> None:
    """FetchError unless the type starts with one of `types` ("" in `types`: none given is ok)."""
    bare = content_type.split(";", 1)[0].strip()
    if not types or any(t and bare.startswith(t) for t in types) or (not bare and "" in types):
        return
    wanted = " or ".join(f"{t}*" for t in types if t)
    raise FetchError(f"content type {bare or '(none)'!r} is not {wanted}")


def size_text(n: int) -> str:
    """`5 MiB`, `16 KiB` or `1000 bytes`: a size cap as people write it."""
    for unit, factor in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _read_capped(resp: Any, cap: int) -> bytes:
    too_large = f"response is larger than {size_text(cap)}"
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(too_large)
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(64 * 1024):
        size += len(chunk)
        if size > cap:  # counted after decompression: no gzip bombs either
            raise FetchError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _sandboxed(url: str, sandbox: str) -> str:
    """Loopback URLs unchanged; any other host -> `<sandbox>/__sandbox/media/<host>/<path>`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in _LOOPBACK_NAMES or host.startswith("127."):
        return url
    base = urlsplit(f"{sandbox.rstrip('/')}/__sandbox/media/{host}{parts.path}")
    return urlunsplit((base.scheme, base.netloc, base.path, parts.query, ""))


class _Watchdog:
    """A total deadline for one fetch: when it passes, every socket the fetch opened is shut
    down, which ends any blocked read at once (a per-read timeout restarts with every byte)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.message = f"timed out while fetching (limit {seconds:g} s)"
        self.expired = False
        self._end = time.monotonic() + seconds
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _local.dog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.dog = None
        with self._lock:
            for sock in self._socks:
                sock.close()

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) for requests: neither longer than what is left of the deadline."""
        left = max(0.01, self._end - time.monotonic())
        return min(CONNECT_TIMEOUT, left), left

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                raise TimeoutError(self.message)
            self._socks.append(sock.dup())  # a duplicate survives TLS wrapping the original

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                with contextlib.suppress(OSError):  # already closed by the peer
                    sock.shutdown(socket.SHUT_RDWR)


def _session(policy: HostPolicy) -> Any:
    """A fresh requests.Session whose every connection goes through `policy` (no env proxies)."""
    import requests

    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    session.max_redirects = MAX_REDIRECTS
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
        dog: _Watchdog | None = getattr(_local, "dog", None)
        for address in policy.addresses(self.host, self.port):
            try:
                sock = create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                last = ConnectTimeoutError(self, f"connection to {self.host} timed out ({exc})")
                continue
            except OSError as exc:
                last = NewConnectionError(self, f"failed to connect to {self.host}: {exc}")
                continue
            if dog is not None:
                try:
                    dog.watch(sock)
                except TimeoutError:
                    sock.close()
                    raise
            return sock
        assert last is not None
        raise last

    return (
        type("GuardedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn}),
        type("GuardedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn}),
    )
