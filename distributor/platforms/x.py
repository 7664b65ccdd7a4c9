"""X adapter (tweepy): v2 tweets with OAuth 1.0a user context, v1.1 chunked media with alt text.

tweepy talks to hard-coded hosts (`api.twitter.com`, `upload.twitter.com`, https), so a
`RewriteAdapter` on its session sends both to the channel's base URL (the sandbox, or the real
hosts) and gives `tweepy.Client`, which has no timeout of its own, one. Library retries and rate
sleeping are off: one HTTP attempt per call, every failure mapped to exactly one error class
(see `docs/platforms/x.md`). tweepy, requests_oauthlib and oauthlib log OAuth headers and signing
strings at DEBUG; their loggers get the redacting filter, and the credentials are registered with
`distributor.redact` also in percent-encoded form.

Ambiguity policy: LOOKUP. X has no idempotency key and answers a repeat with "403 duplicate
content" (without the id), so after MaybeSent `lookup()` reads the account's own timeline since
the attempt began and matches the draft's text modulo t.co links (X rewrites every URL it
recognises to t.co, appends a t.co link for attached media and HTML-escapes `&<>`).
"""

from __future__ import annotations

import html
import logging
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import requests

from distributor import redact
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
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.http import classify_transport, session_for
from distributor.platforms.links import normal_url
from distributor.platforms.media import fetch_image
from distributor.platforms.rest import body_of, guard_url_logs
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from distributor.article import Image
    from distributor.config import Channel
    from distributor.secrets import Secret

log = logging.getLogger(__name__)
API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"
ROLES = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
# loggers that print OAuth headers, signing base strings or request details at DEBUG
SECRET_LOGGERS = (
    "tweepy.client",
    "tweepy.api",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)
TWITTER_EPOCH_MS = 1288834974657
DEFAULT_RATE_WAIT = 900.0  # X's windows are 15 minutes
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # X's image limit
MAX_ALT = 1000
LOOKUP_PAGES = 5  # 500 tweets since the attempt began: more means "cannot prove absence"
LOOKUP_SKEW = timedelta(seconds=10)  # start_time has second precision; clocks differ
# 403 problem types that mean the app or token lacks rights (re-authorise), not a bad post
AUTH_PROBLEMS = ("oauth1-permissions", "client-forbidden", "unsupported-authentication")


class XAdapter:
    """Posts as the user the OAuth 1.0a access token belongs to."""

    spec: ClassVar[PlatformSpec] = BUILTIN["x"]

    def __init__(
        self,
        channel: Channel,
        credentials: dict[str, Secret],
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        import tweepy

        self.channel = channel
        missing = [f"{role}_env" for role in ROLES if role not in credentials]
        if missing:
            raise ConfigError(f"channel {channel.name}: missing X credentials {', '.join(missing)}")
        keys = {role: credentials[role].reveal() for role in ROLES}
        for value in keys.values():  # oauthlib logs them percent-encoded in signing strings
            redact.register(quote(value, safe=""))
            redact.register(quote(quote(value, safe=""), safe=""))
        guard_url_logs(SECRET_LOGGERS)
        options = channel.options
        self.user_id = options.get("user_id") or ""
        self.handle = (options.get("handle") or "").lstrip("@")
        base = base_url.rstrip("/")
        upload = options.get("upload_base_url") or (UPLOAD_HOST if base == API_HOST else base)
        self.timeout = (min(5.0, timeout), timeout)
        self.session = session_for(
            base, real_hosts=(API_HOST + "/",), session=session, timeout=self.timeout
        )
        session_for(
            upload, real_hosts=(UPLOAD_HOST + "/",), session=self.session, timeout=self.timeout
        )
        self.client = tweepy.Client(**keys, return_type=requests.Response, wait_on_rate_limit=False)
        self.client.session = self.session
        auth = tweepy.OAuth1UserHandler(*keys.values())
        self.api = tweepy.API(auth, timeout=timeout, retry_count=0, wait_on_rate_limit=False)
        self.api.session = self.session

    # -- the Adapter protocol -------------------------------------------------------------
    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        media_ids = self._upload(draft.image, draft.language) if draft.image is not None else []
        response = self._call(
            self.client.create_tweet,
            text=draft.text,
            media_ids=media_ids or None,
            user_auth=True,
            creates=True,
        )
        tweet_id = str((body_of(response).get("data") or {}).get("id") or "")
        if not tweet_id:
            detail = f"HTTP {response.status_code} without a tweet id: the post may exist"
            raise MaybeSent("x", self.channel.name, detail, status=response.status_code)
        return Receipt(
            "x",
            tweet_id,
            self._url(tweet_id),
            posted_at=snowflake_time(tweet_id),
            extra=rate_extra(response.headers),
        )

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        user_id = self.user_id or self.verify().account_id
        token: str | None = None
        for _ in range(LOOKUP_PAGES):
            response = self._call(
                self.client.get_users_tweets,
                user_id,
                start_time=since - LOOKUP_SKEW,
                max_results=100,
                tweet_fields=["created_at", "entities", "attachments"],
                exclude=["retweets"],
                pagination_token=token,
                user_auth=True,
                reads=True,
            )
            body = body_of(response)
            for tweet in body.get("data") or []:
                if same_post(draft.text, tweet):
                    return self._receipt(tweet, response.headers)
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        detail = f"lookup: more than {LOOKUP_PAGES * 100} tweets since {since:%Y-%m-%d %H:%M}"
        raise MaybeSent("x", self.channel.name, detail + ": cannot prove the post is absent")

    def delete(self, receipt: Receipt) -> None:
        try:
            self._call(self.client.delete_tweet, receipt.remote_id, user_auth=True)
        except Rejected as exc:
            if exc.status != 404:
                raise
            log.info("x/%s: tweet %s already gone", self.channel.name, receipt.remote_id)

    def verify(self) -> AccountInfo:
        data = body_of(self._call(self.client.get_me, user_auth=True)).get("data") or {}
        self.user_id = str(data.get("id") or "")
        username = str(data.get("username") or "")
        self.handle = self.handle or username
        name = f"@{username}" + (f" ({data['name']})" if data.get("name") else "")
        return AccountInfo("x", self.user_id, name, f"https://x.com/{username}")

    # -- internals ------------------------------------------------------------------------
    def _upload(self, image: Image, language: str | None) -> list[str]:
        """Chunked v1.1 upload plus alt text; [] when the image can't be fetched."""
        fetched = fetch_image(
            self.session, image.url, timeout=self.timeout[1], max_bytes=MAX_IMAGE_BYTES
        )
        if fetched is None:
            return []  # post the text without the picture rather than not at all
        media = self._call(
            self.api.chunked_upload,
            fetched.filename,
            file=BytesIO(fetched.data),
            file_type=fetched.content_type,
            media_category="tweet_image",
        )
        media_id = str(getattr(media, "media_id_string", "") or media.media_id)
        alt = alt_text(image, language)
        if alt:
            self._call(self.api.create_media_metadata, media_id, alt)
        return [media_id]

    def _call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        creates: bool = False,
        reads: bool = False,
        **kwargs: Any,
    ) -> Any:
        """One tweepy call; errors mapped. Only a create can leave a post behind (MaybeSent);
        a 403 on a timeline read is the API tier, not the credentials (Rejected, not AuthFailed).
        """
        import tweepy

        try:
            return fn(*args, **kwargs)
        except tweepy.errors.HTTPException as exc:
            error = self._http_error(exc, creates, reads)
        except tweepy.errors.TweepyException as exc:  # tweepy.API wraps transport errors
            error = self._transport(exc.__context__ or exc, creates)
        except requests.RequestException as exc:  # tweepy.Client does not
            error = self._transport(exc, creates)
        raise error from None

    def _transport(self, exc: BaseException, creates: bool) -> PublishError:
        error = classify_transport(exc, "x", self.channel.name)
        return error if creates or not isinstance(error, MaybeSent) else _not_sent(error)

    def _http_error(self, exc: Any, creates: bool, reads: bool) -> PublishError:
        response: requests.Response = exc.response
        status, name = response.status_code, self.channel.name
        messages = [str(m) for m in exc.api_messages]
        detail = scrub("; ".join(messages))[:300] or f"HTTP {status}"
        if status == 429:
            wait, reset = rate_wait(response.headers)
            return RateLimited(
                "x", name, f"rate limited: {detail}", retry_after=wait, reset_at=reset
            )
        if status == 401:
            return AuthFailed("x", name, detail, status=status, code="401")
        if status == 403 and (187 in exc.api_codes or "duplicate content" in detail.lower()):
            return DuplicateContent("x", name, detail, status=status, code="duplicate")
        problem_type = str(body_of(response).get("type"))
        if status == 403 and not reads and problem_type.endswith(AUTH_PROBLEMS):
            return AuthFailed("x", name, detail, status=status, code="403")
        if status >= 500:
            error = MaybeSent("x", name, f"HTTP {status}: the post may exist", status=status)
            return error if creates else _not_sent(error)
        return Rejected("x", name, detail, status=status, code=str(status))

    def _receipt(self, tweet: Mapping[str, Any], headers: Mapping[str, str]) -> Receipt:
        tweet_id = str(tweet.get("id") or "")
        created = tweet.get("created_at")
        posted = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
        return Receipt("x", tweet_id, self._url(tweet_id), posted, rate_extra(headers))

    def _url(self, tweet_id: str) -> str:
        if self.handle:
            return f"https://x.com/{self.handle}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"


def snowflake_time(tweet_id: str) -> datetime | None:
    """When X created a tweet: its id carries the milliseconds since the Twitter epoch."""
    if not tweet_id.isdigit():
        return None
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def _not_sent(error: PublishError) -> NotSent:
    """Reads, deletes and media uploads leave no post behind: their failures are NotSent."""
    detail = error.detail.replace(": the post may exist", "")
    return NotSent(error.platform, error.channel, detail, status=error.status, code=error.code)


def alt_text(image: Image, language: str | None) -> str:
    """The image's alt text with its credit ("© dpa"), at most X's 1000 characters.

    The credit is marked with "©", not a word: labels belong to the templates, so Python never
    puts a German word into an English post."""
    credit = f"© {image.credit}" if image.credit else ""
    parts = [image.alt.strip(), f"({credit})" if image.alt.strip() and credit else credit]
    return " ".join(p for p in parts if p)[:MAX_ALT]


def rate_wait(headers: Mapping[str, str]) -> tuple[float, datetime | None]:
    """Seconds until the exhausted window resets (epoch headers; X sends no Retry-After)."""
    resets = [_epoch(headers.get("x-rate-limit-reset"))]
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{prefix}-remaining") == "0":  # a daily cap outlasts the 15 minutes
            resets.append(_epoch(headers.get(f"{prefix}-reset")))
    known = [r for r in resets if r is not None]
    if not known:
        return DEFAULT_RATE_WAIT, None
    when = max(known)
    return max(0.0, when - time.time()), datetime.fromtimestamp(when, UTC)


def rate_extra(headers: Mapping[str, str]) -> dict[str, str]:
    """`rate_remaining`/`rate_reset` of the tightest window in the headers (dispatch paces)."""
    windows: list[tuple[int, float]] = []
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        left, reset = headers.get(f"{prefix}-remaining", ""), _epoch(headers.get(f"{prefix}-reset"))
        if left.isdigit() and reset is not None:
            windows.append((int(left), -reset))  # fewest left first; on a tie the later reset
    if not windows:
        return {}
    fewest, latest = min(windows)
    when = datetime.fromtimestamp(-latest, UTC).isoformat()
    return {"rate_remaining": str(fewest), "rate_reset": when}


def _epoch(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def same_post(text: str, tweet: Mapping[str, Any]) -> bool:
    """Whether `tweet` (as the v2 API returns it) is `text` as posted, modulo t.co links.

    X returns every recognised URL as a t.co link, appends one per attached media item and
    HTML-escapes `&<>`; when `entities` came along, the expanded URLs must be the draft's too
    (compared normalised: X may change the host's case or add a `/` to an empty path).
    """
    posted, posted_urls = _shape(text)
    shown, _ = _shape(html.unescape(str(tweet.get("text") or "")))
    url_slot = " \u2060"
    while shown != posted and shown.endswith(url_slot) and len(shown) > len(posted):
        shown = shown[: -len(url_slot)]  # a media link X appended
    if shown != posted:
        return False
    entities = (tweet.get("entities") or {}).get("urls") or []
    expanded = [normal_url(str(u.get("expanded_url") or "")) for u in entities]
    expanded = [u for u, e in zip(expanded, entities, strict=True) if not e.get("media_key")]
    return not entities or expanded == [normal_url(u) for u in posted_urls]


def _shape(text: str) -> tuple[str, list[str]]:
    """The text with every URL replaced by one placeholder and whitespace collapsed."""
    from distributor.limits import extract_urls

    text = unicodedata.normalize("NFC", text)
    out, urls, pos = "", [], 0
    for found in extract_urls(text):
        start, end = found["indices"]
        out += text[pos:start] + " \u2060 "
        urls.append(found["url"])
        pos = end
    out += text[pos:]
    return " " + " ".join(out.split()), urls
