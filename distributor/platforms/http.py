"""HTTP plumbing shared by adapters: host rewriting, timeouts, and transport-error classification.

`RewriteAdapter` is mounted on an SDK's own `requests.Session` (tweepy, facebook-sdk) so the real
client library talks to `base_url` (the sandbox, or the real host) and always has a timeout.
`classify_transport()` maps a requests exception to the error tree: only failures that prove the
request never reached the server are `NotSent`; everything after the request may have been read
is `MaybeSent`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from distributor.errors import MaybeSent, NotSent, PublishError
from distributor.redact import scrub

DEFAULT_TIMEOUT = (5.0, 20.0)  # (connect, read) seconds


class RewriteAdapter(HTTPAdapter):
    """Send every request to `target` (scheme + host + path prefix), keeping path and query."""

    def __init__(
        self, target: str, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._target = urlsplit(target.rstrip("/"))
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        path = self._target.path + url.path
        request.url = urlunsplit((self._target.scheme, self._target.netloc, path, url.query, ""))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout  # tweepy.Client never passes one
        return super().send(request, **kwargs)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class SandboxOnlyAdapter(RewriteAdapter):
    """In sandbox mode, keep every request on loopback: other hosts go to the sandbox's media route.

    Whatever an SDK asks for on a host that is not loopback is answered by
    `<sandbox>/__sandbox/media/<host>/<path>`, so nothing leaves the machine. (Article images
    go through `distributor.fetch`, which applies the same rule in sandbox mode.)
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        if (url.hostname or "") in LOOPBACK_HOSTS or (url.hostname or "").startswith("127."):
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = self._timeout
            return HTTPAdapter.send(self, request, **kwargs)
        request.url = urlunsplit(("http", "x", f"/{url.hostname}{url.path}", url.query, ""))
        return super().send(request, **kwargs)


def new_session(base_url: str | None) -> requests.Session:
    """A session that reads the environment once, not on every request.

    With `trust_env`, requests looks up proxy variables, `no_proxy`, the CA-bundle variables
    and ~/.netrc for every request (a measurable share of a delivery's CPU). An adapter talks
    to one API base, so its proxy is resolved here for that base; the CA bundle variables are
    kept; .netrc is never used (adapters send their own credentials). `base_url=None`:
    loopback only (the sandbox), never through a proxy."""
    import os

    s = requests.Session()
    if base_url is not None:
        s.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            s.verify = bundle
    s.trust_env = False
    return s


def sandbox_session(sandbox_url: str) -> requests.Session:
    """A session that can reach loopback only; anything else is answered by the sandbox."""
    s = new_session(None)
    adapter = SandboxOnlyAdapter(f"{sandbox_url.rstrip('/')}/__sandbox/media", max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    # Article images are fetched by `distributor.fetch`, not this session: the mark tells it
    # to keep them on loopback and the sandbox too.
    s.distributor_sandbox = sandbox_url  # type: ignore[attr-defined]
    return s


def session_for(
    base_url: str,
    *,
    real_hosts: tuple[str, ...] = (),
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> requests.Session:
    """A session whose requests to `real_hosts` (e.g. "https://api.twitter.com/") go to `base_url`.

    With no `real_hosts`, every http(s) request is rewritten to `base_url`.
    """
    s = session or new_session(base_url)
    adapter = RewriteAdapter(base_url, timeout=timeout, max_retries=0)
    for prefix in real_hosts or ("http://", "https://"):
        s.mount(prefix, adapter)
    return s


def classify_transport(exc: BaseException, platform: str, channel: str) -> PublishError:
    """Map a requests/urllib3 transport exception to NotSent or MaybeSent (one line, no secrets)."""
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NotSent(platform, channel, "connect timeout", code=name)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return MaybeSent(platform, channel, "read timeout: the post may exist", code=name)
    if isinstance(exc, requests.exceptions.SSLError):
        return NotSent(platform, channel, "TLS handshake failed", code=name)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _never_connected(exc):
            return NotSent(platform, channel, "connection refused or host unreachable", code=name)
        return MaybeSent(
            platform, channel, "connection lost after sending: the post may exist", code=name
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return MaybeSent(platform, channel, f"transport error ({name})", code=name)
    return MaybeSent(platform, channel, f"unexpected error: {scrub(str(exc))[:200]}", code=name)


def _never_connected(exc: BaseException) -> bool:
    """True when the chain shows the TCP connection was never established."""
    import urllib3.exceptions as u3

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, u3.NewConnectionError | u3.NameResolutionError | ConnectionRefusedError):
            return True
        if isinstance(cur, u3.MaxRetryError) and cur.reason is not None:
            cur = cur.reason
            continue
        nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = cur.__cause__ or cur.__context__ or nxt
    return False


def retry_after_seconds(value: str | None, default: float = 60.0) -> float:
    """Parse a Retry-After header (seconds or HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
