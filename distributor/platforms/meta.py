"""Meta's Graph APIs (Facebook Pages, Threads, Instagram): one error table, one usage reading.

All three answer errors as `{"error": {"message", "type", "code", "error_subcode"?,
"is_transient"?, "fbtrace_id"}}` and report their budgets in the JSON-valued `X-App-Usage`,
`X-Page-Usage` and `X-Business-Use-Case-Usage` headers (percentages; the regain estimate in
minutes; no `Retry-After`). `classify` maps such an answer to exactly one class of the error tree;
a subcode entry wins over its code (Instagram's code 4 with subcode 2207051 is a spam block, not
the app throttle). Sources: developers.facebook.com/docs/graph-api/guides/error-handling and the
Instagram Platform's error-code reference; see docs/platforms/facebook.md and instagram.md.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from distributor.errors import (
    AuthFailed,
    ConfigError,
    DuplicateContent,
    MaybeSent,
    NotSent,
    PublishError,
    RateLimited,
    Rejected,
)
from distributor.post import AccountInfo
from distributor.redact import scrub

if TYPE_CHECKING:
    import requests

DEFAULT_RATE_WAIT = 3600.0  # Graph usage windows roll over one hour when no estimate is given
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
DEFAULT_VERSION = "v21.0"
_VERSION = re.compile(r"v?(\d{1,3}\.\d{1,2})")


class Kind(enum.Enum):
    """What a Graph error code means for the send."""

    RATE = "rate"  # throttled: RateLimited, wait for the regain estimate
    AUTH = "auth"  # token or permission: AuthFailed (needs re-auth)
    DUPLICATE = "duplicate"  # the post is there already: DuplicateContent (reconcile)
    TRANSIENT = "transient"  # Meta's side failed: MaybeSent while sending, else NotSent
    RETRY = "retry"  # refused before anything happened, try again: NotSent
    REJECT = "reject"  # permanent: Rejected


_RATE, _AUTH, _TRANSIENT, _RETRY, _REJECT = (
    Kind.RATE,
    Kind.AUTH,
    Kind.TRANSIENT,
    Kind.RETRY,
    Kind.REJECT,
)
CODES: dict[int, Kind] = {
    1: _TRANSIENT,  # API unknown, possibly temporary
    2: _TRANSIENT,  # API service, temporary downtime
    -1: _TRANSIENT,  # Instagram: server error / create media failed
    -2: _RETRY,  # Instagram: media download timed out (before any post)
    4: _RATE,  # app request limit
    17: _RATE,  # user request limit
    32: _RATE,  # page request limit
    341: _RATE,  # application limit
    613: _RATE,  # custom rate limit
    80001: _RATE,  # Pages business-use-case throttle
    80002: _RATE,  # Instagram business-use-case throttle
    10: _AUTH,  # permission denied
    102: _AUTH,  # session / login status
    104: _AUTH,  # no access token
    190: _AUTH,  # token expired or invalid
    **dict.fromkeys(range(200, 300), _AUTH),  # missing permission
    506: Kind.DUPLICATE,  # successive duplicate post
}
SUBCODES: dict[int, Kind] = {
    2207001: _TRANSIENT,  # Instagram server error
    2207003: _RETRY,  # media download timed out
    2207027: _RETRY,  # container not ready for publishing yet
    2207032: _TRANSIENT,  # create media failed
    2207042: _RATE,  # content publishing limit (posts per 24 h)
    2207051: _REJECT,  # restricted as spam (code 4, which is otherwise the app throttle)
}
# Instagram subcodes after which a container cannot be published: make a new one.
CONTAINER_GONE = frozenset({2207008, 2207020})


def kind_of(code: int | None, subcode: int | None) -> Kind | None:
    """The table's meaning of (code, subcode); None when neither is known."""
    if subcode is not None and subcode in SUBCODES:
        return SUBCODES[subcode]
    return CODES.get(code) if code is not None else None


def error_of(body: object) -> dict[str, Any]:
    """The `error` object of a Graph answer ({} when there is none)."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def codes_of(body: object) -> tuple[int | None, int | None]:
    """(code, error_subcode) of a Graph answer."""
    error = error_of(body)
    code, sub = error.get("code"), error.get("error_subcode")
    return (code if isinstance(code, int) else None, sub if isinstance(sub, int) else None)


def classify(
    platform: str,
    channel: str,
    body: object,
    status: int | None,
    headers: Mapping[str, str],
    *,
    sending: bool = True,
) -> PublishError:
    """Map a Graph answer to exactly one error class (`sending`: the call may have posted)."""
    error = error_of(body)
    code, sub = codes_of(body)
    label = f"{code}/{sub}" if sub else (str(code) if code is not None else None)
    text = scrub(str(error.get("message") or f"HTTP {status}"))[:300]
    message = text if code is None or f"(#{code})" in text else f"({code}) {text}"
    kind = kind_of(code, sub)
    args: dict[str, Any] = {"status": status, "code": label}
    if kind is Kind.RATE or (kind is None and status == 429):
        wait, reset = rate_wait(headers)
        return RateLimited(platform, channel, message, retry_after=wait, reset_at=reset, **args)
    if kind is Kind.AUTH or (kind is None and status == 401):
        return AuthFailed(platform, channel, message, **args)
    if kind is Kind.DUPLICATE:
        return DuplicateContent(platform, channel, message, **args)
    if kind is Kind.RETRY:
        return NotSent(platform, channel, message, **args)
    server = status is not None and status >= 500
    transient = kind is Kind.TRANSIENT or error.get("is_transient") is True
    if kind is not Kind.REJECT and (transient or server or not error):
        if not error and status is not None and 400 <= status < 500:
            # a 4xx page from a proxy, not from Graph: check base_url
            return Rejected(platform, channel, f"HTTP {status} without a Graph error", **args)
        if not sending:
            return NotSent(platform, channel, message, **args)
        return MaybeSent(platform, channel, f"{message}: the post may exist", **args)
    return Rejected(platform, channel, message, **args)


def answer_error(platform: str, channel: str, response: requests.Response) -> PublishError:
    """`classify` for a `requests` answer: a GET changes nothing, so it is never MaybeSent."""
    from distributor.platforms.rest import body_of

    body, status = body_of(response), response.status_code
    sending = response.request.method != "GET"
    return classify(platform, channel, body, status, response.headers, sending=sending)


def container_not_sent(platform: str, channel: str, exc: MaybeSent) -> NotSent:
    """A container call that may have worked (a 5xx, a lost answer): at worst an unpublished
    container exists, which nobody sees, so the send is NotSent, keeping status and code."""
    detail = f"container: {exc.detail.removesuffix(': the post may exist')}"
    return NotSent(platform, channel, detail, status=exc.status, code=exc.code)


def usage(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """(highest usage percentage, longest `estimated_time_to_regain_access` in minutes)."""
    found, percent, minutes = False, 0, 0.0
    for name in USAGE_HEADERS:
        try:
            data = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        nested = [e for v in data.values() if isinstance(v, list) for e in v]
        for entry in nested or [data]:
            if not isinstance(entry, dict):
                continue
            found = True
            for key in ("call_count", "total_time", "total_cputime"):
                value = entry.get(key)
                percent = max(percent, int(value) if isinstance(value, int | float) else 0)
            regain = entry.get("estimated_time_to_regain_access")
            minutes = max(minutes, float(regain) if isinstance(regain, int | float) else 0.0)
    return (percent, minutes) if found else None


def rate_wait(headers: Mapping[str, str]) -> tuple[float, datetime | None]:
    """Seconds until Graph lets us back in: the regain estimate, else one hour."""
    figures = usage(headers)
    if figures is None or figures[1] <= 0:
        return DEFAULT_RATE_WAIT, None
    seconds = figures[1] * 60.0
    return seconds, datetime.now(UTC) + timedelta(seconds=seconds)


def usage_extra(headers: Mapping[str, str]) -> dict[str, str]:
    """`rate_remaining` (percentage points left) and `rate_reset` (ISO-8601) for pacing."""
    figures = usage(headers)
    if figures is None:
        return {}
    extra = {"rate_remaining": str(max(0, 100 - figures[0])), "rate_unit": "percent"}
    if figures[1] > 0:
        reset = datetime.now(UTC) + timedelta(minutes=figures[1])
        extra["rate_reset"] = reset.isoformat(timespec="seconds")
    return extra


def graph_time(value: Any) -> datetime | None:
    """Graph's `2019-08-12T03:45:11+0000`; None for anything else."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def graph_version(channel: str, value: str | None) -> str:
    """`v21.0` from `v21.0` or `21.0`; ConfigError for anything else."""
    match = _VERSION.fullmatch((value or DEFAULT_VERSION).strip())
    if match is None:
        raise ConfigError(
            f"channel {channel}: graph_version must look like {DEFAULT_VERSION}, not {value!r}"
        )
    return f"v{match.group(1)}"


def account(platform: str, data: Mapping[str, Any], user_id: str, profile: str) -> AccountInfo:
    """The account a Graph user node (`id,username,name`) describes; `profile` is its public
    URL with `{}` for the username."""
    username = str(data.get("username") or "")
    return AccountInfo(
        platform,
        str(data.get("id") or user_id),
        username or str(data.get("name") or user_id),
        profile.format(username) if username else None,
    )


def walk(
    fetch: Callable[[dict[str, str]], Mapping[str, Any]],
    params: dict[str, str],
    *,
    pages: int,
    platform: str,
    channel: str,
    since: datetime,
) -> Iterator[Mapping[str, Any]]:
    """The items of a Graph listing (`data`), following the `after` cursor for up to `pages`
    pages; MaybeSent when the listing goes on beyond them (absence is not proven)."""
    for _ in range(pages):
        body = fetch(params)
        yield from (item for item in body.get("data") or [] if isinstance(item, Mapping))
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            return
        params = {**params, "after": str(after)}
    detail = f"lookup: more than {pages} pages of posts since {since:%H:%M}"
    raise MaybeSent(platform, channel, detail + ": cannot prove the post is absent")
