"""A thin `requests` client for the adapters that speak plain HTTP (Mastodon, Bluesky, Telegram,
LinkedIn, Threads, Instagram, Pinterest).

One call = one HTTP attempt (no library retries, always a timeout). Transport failures become
NotSent/MaybeSent through `classify_transport`, raised `from None` so the requests exception, whose
text carries the URL (Telegram: the bot token), is never chained into a traceback. The urllib3
loggers get a redacting filter of their own, because at DEBUG they log request paths and pytest's
or a user's handlers may lack the filter `distributor.logs` installs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from distributor.errors import AuthFailed, MaybeSent, PublishError, RateLimited, Rejected
from distributor.platform import PlatformSpec
from distributor.platforms.http import classify_transport, new_session
from distributor.redact import RedactingFilter

if TYPE_CHECKING:
    from distributor.config import Channel
    from distributor.secrets import Secret

# urllib3 loggers that print request URLs (logger filters are not inherited by children).
URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "urllib3.response",
)


def guard_url_logs(extra: tuple[str, ...] = ()) -> None:
    """Scrub secrets from urllib3's and `extra` loggers' records, whatever handler gets them."""
    for name in URL_LOGGERS + extra:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


class RestClient:
    """Sends requests to `base_url` + path for one channel, mapping transport errors."""

    def __init__(
        self,
        platform: str,
        channel: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.platform = platform
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.session = session or new_session(self.base_url)
        self.timeout = (min(5.0, timeout), timeout)
        guard_url_logs()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One attempt; raises NotSent/MaybeSent for transport failures, returns any response."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        try:
            return self.session.request(method, self.base_url + path, **kwargs)
        except requests.RequestException as exc:
            error = classify_transport(exc, self.platform, self.channel)
        raise error from None


def body_of(response: requests.Response) -> dict[str, Any]:
    """The response's JSON object, or {} when the body is empty, HTML or not an object."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def status_error(
    platform: str,
    channel: str,
    status: int,
    message: str,
    code: str,
    retry_after: Callable[[], float],
    noun: str = "post",
) -> PublishError:
    """An unexpected answer by its status, once the platform's own cases are handled: 429
    RateLimited (for `retry_after()` seconds), 401/403 AuthFailed (re-auth), another 4xx
    Rejected, anything else (5xx, a proxy's page) MaybeSent: the `noun` may exist."""
    if status == 429:
        return RateLimited(platform, channel, message, retry_after=retry_after(), status=status)
    if status in (401, 403):
        return AuthFailed(platform, channel, message, status=status, code=code)
    if 400 <= status < 500:
        return Rejected(platform, channel, message, status=status, code=code)
    return MaybeSent(platform, channel, f"HTTP {status}: the {noun} may exist", status=status)


class RestAdapter:
    """Shared construction of the plain-HTTP adapters (the registry's constructor signature),
    and `bearer`, one call with the channel's bearer token."""

    spec: ClassVar[PlatformSpec]
    _token: Secret  # the bearer token of the adapters that call `bearer`

    def __init__(
        self,
        channel: Channel,
        credentials: dict[str, Secret],
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.channel = channel
        self.http = RestClient(
            self.spec.name, channel.name, base_url, session=session, timeout=timeout
        )
        self.configure(channel.options, credentials)

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        """Read the platform's options and credentials (subclasses)."""

    def bearer(
        self,
        method: str,
        path: str,
        *,
        expect: int = 200,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One call with `Authorization: Bearer <token>`; an answer other than `expect` is
        raised as the adapter's `error_for` maps it."""
        sent = {"Authorization": f"Bearer {self._token.reveal()}", **(headers or {})}
        response = self.http.call(method, path, headers=sent, **kwargs)
        if response.status_code != expect:
            raise self.error_for(response)
        return response

    def error_for(self, response: requests.Response) -> PublishError:
        """The error class of an answer `bearer` did not expect (adapters that call it)."""
        raise NotImplementedError(f"{type(self).__name__}.error_for")
