"""X (Twitter) emulator: v2 tweets, timeline and users/me, v1.1 and v2 media upload, alt text.

Shapes follow the recorded tweepy cassettes and docs.x.com: `201 {"data": {"id", "text",
"edit_history_tweet_ids"}}`, v2 "problem" JSON errors (403 duplicate content, 400 too long counted
with `distributor.limits.length("x", ...)`, 401 Unauthorized), 429 with `x-rate-limit-*` headers
(epoch reset, no Retry-After). The text X returns has every URL twitter-text recognises replaced
by a t.co link, one more t.co link appended per tweet with media, and `&`, `<`, `>` HTML-escaped,
as X does; `Post.text` keeps what was sent and `data["display_text"]` what X shows.
Auth: a well-formed OAuth 1.0a header (user context; timestamp within 5 minutes) or a Bearer
token. Access tokens look like `<user id>-<random>` (the user id is taken from them); tokens
containing `invalid` get 401, `readonly` 403 on writes (app without write permission),
`noread` 403 client-forbidden on timeline reads (an access tier without them).
Media routes live in `distributor.sandbox.x_media`.

Compared with recordings (tests/fidelity/test_cassette_fidelity.py, tweepy's cassettes): status,
error keys, `x-rate-limit-*` headers and media type of create/delete tweet, users/me and a simple
PNG upload. The rest (errors, limits, chunked and v2 media, timelines) follows docs.x.com and
error bodies quoted in public reports, not a recorded exchange.
"""

from __future__ import annotations

import hashlib
import html
import re
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page

if TYPE_CHECKING:
    from distributor.sandbox.core import SandboxState

TWITTER_EPOCH_MS = 1288834974657
TWEET_LIMIT = 280
DUPLICATE_WINDOW = 86400.0  # X refuses the same text again for about a day (MEM)
CLOCK_SKEW = 300.0
PROBLEMS = "https://api.twitter.com/2/problems/"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
INVALID_REQUEST = "One or more parameters to your request was invalid."
_OAUTH_HEADER = re.compile(r'\s*[A-Za-z_]+="[^"]*"(\s*,\s*[A-Za-z_]+="[^"]*")*\s*,?\s*')
_OAUTH_PARAM = re.compile(r'([A-Za-z_]+)="([^"]*)"')
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_token",
)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class User:
    """The account a request is made for."""

    id: str
    username: str
    token: str


def problem(status: int, detail: str, *, kind: str = "about:blank", **extra: Any) -> Reply:
    """A v2 "problem" JSON error as X sends it."""
    title = "Too Many Requests" if status == 429 else _phrase(status)
    return Reply(
        status, {"detail": detail, "type": kind, "title": title, "status": status, **extra}
    )


def invalid_request(message: str, parameter: str = "", value: str = "") -> Reply:
    """400 invalid-request: the specific message is in `errors`, `detail` is generic."""
    error: dict[str, Any] = {"message": message}
    if parameter:
        error["parameters"] = {parameter: [value]}
    body = {
        "errors": [error],
        "title": "Invalid Request",
        "detail": INVALID_REQUEST,
        "type": PROBLEMS + "invalid-request",
    }
    return Reply(400, body)


def snowflake(state_now: float, counter: int) -> str:
    """An X-style id: milliseconds since the Twitter epoch, shifted, plus a per-sandbox counter."""
    ms = int(state_now * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) | (counter % (1 << 22)))


def tco(value: str) -> str:
    """A stable t.co link for a URL (10 base-62 characters, like X's)."""
    number = int.from_bytes(hashlib.sha1(value.encode("utf-8")).digest()[:8], "big")
    code = ""
    for _ in range(10):
        number, digit = divmod(number, 62)
        code += _BASE62[digit]
    return f"https://t.co/{code}"


def oauth_params(header: str) -> dict[str, str] | None:
    """The parameters of a well-formed `Authorization: OAuth ...` header, else None."""
    if not header.startswith("OAuth "):
        return None
    rest = header[6:]
    if not _OAUTH_HEADER.fullmatch(rest):
        return None
    params = {k: unquote(v) for k, v in _OAUTH_PARAM.findall(rest)}
    if any(not params.get(name) for name in OAUTH_REQUIRED):
        return None
    if not params["oauth_timestamp"].isdigit():
        return None
    return params


class XEmulator(Emulator):
    """The X API endpoints `distributor` uses (v2 tweets/users, v1.1 + v2 media)."""

    platform = "x"
    # per user, per 15 minutes, as docs.x.com and the recorded answers list them
    default_limits: ClassVar[dict[str, tuple[int, float]]] = {
        "create": (100, 900.0),
        "delete": (50, 900.0),
        "lookup": (900, 900.0),
        "verify": (75, 900.0),
        "media": (415, 900.0),
    }

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        from distributor.sandbox.x_media import XMedia

        self.media = XMedia(state, self.user)

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/2/tweets", self.create, "create"),
            Route("DELETE", r"/2/tweets/(?P<tweet_id>\d+)", self.delete, "delete"),
            Route("GET", r"/2/users/me", self.verify, "verify"),
            Route("GET", r"/2/users/(?P<user_id>\d+)/tweets", self.timeline, "lookup"),
            *self.media.routes(),
        ]

    # -- auth -----------------------------------------------------------------------------
    def account_of(self, req: Request) -> str:
        """The OAuth 1.0a access token (or the Bearer token): X counts limits per user."""
        auth = req.headers.get("authorization", "")
        params = oauth_params(auth)
        if params is not None:
            return params["oauth_token"]
        if auth.startswith("Bearer "):
            return auth[7:].strip()
        return "anonymous"

    def user(self, req: Request, *, write: bool = False) -> User | Reply:
        """The calling user, or the 401/403 X answers."""
        auth = req.headers.get("authorization", "")
        params = oauth_params(auth)
        if params is not None:
            token = params["oauth_token"]
            if abs(int(params["oauth_timestamp"]) - self.state.now()) > CLOCK_SKEW:
                return problem(401, "Unauthorized")
        elif auth.startswith("Bearer ") and auth[7:].strip():
            token = auth[7:].strip()
        else:
            return problem(401, "Unauthorized")
        if "invalid" in token:
            return problem(401, "Unauthorized")
        if write and "readonly" in token:
            detail = (
                "Your client app is not configured with the appropriate oauth1 app permissions "
                "for this endpoint."
            )
            return problem(403, detail, kind=PROBLEMS + "oauth1-permissions")
        prefix = token.split("-", 1)[0]
        user_id = prefix if prefix.isdigit() else str(10**17 + zlib.crc32(token.encode()))
        return User(user_id, f"sandbox_{user_id[-6:]}", token)

    # -- tweets ---------------------------------------------------------------------------
    def create(self, req: Request) -> Reply:
        user = self.user(req, write=True)
        if isinstance(user, Reply):
            return user
        body = req.json()
        if not isinstance(body, dict):
            return invalid_request("The request body must be a JSON object.")
        text = body.get("text")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        problem_reply = self._validate(user, text, media_ids, reply_to)
        if problem_reply is not None:
            return problem_reply
        text = text or ""
        with self.state.lock:
            if text and self._is_duplicate(user, text):
                return problem(403, DUPLICATE)
            tweet_id = snowflake(self.state.now(), self.state.next_id("x"))
            media = [self.media.take(m) for m in media_ids]
            display, urls = shorten(text, media, user.username, tweet_id)
            data = {
                "display_text": display,
                "urls": urls,
                "media_ids": media_ids,
                "media": media,
                "reply_to": reply_to or None,
                "quote_tweet_id": body.get("quote_tweet_id"),
                "reply_settings": body.get("reply_settings"),
            }
            self.state.record("x", user.id, text, data, post_id=tweet_id)
            if text:
                self.state.kv["x-texts"][f"{user.id}\n{text}"] = tweet_id
        location = {"location": f"https://api.twitter.com/2/tweets/{tweet_id}"}
        tweet = {"id": tweet_id, "text": display, "edit_history_tweet_ids": [tweet_id]}
        return Reply(201, {"data": tweet}, location)

    def _validate(self, user: User, text: Any, media_ids: list[str], reply_to: str) -> Reply | None:
        from distributor.limits import length

        if text is not None and not isinstance(text, str):
            return invalid_request("text must be a string", "text", str(text))
        if not text and not media_ids:
            return invalid_request("Tweet text or media is required.", "text", "")
        if len(media_ids) > 4:
            return invalid_request("Your media IDs are invalid.", "media.media_ids")
        if any(not self.media.usable(m, user.id) for m in media_ids):
            return invalid_request("Your media IDs are invalid.", "media.media_ids")
        if text and length("x", text) > TWEET_LIMIT:
            return problem(400, TOO_LONG)
        if reply_to:
            parent = self.state.find("x", reply_to)
            if parent is None or parent.deleted:
                detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
                return problem(403, detail)
        return None

    def _is_duplicate(self, user: User, text: str) -> bool:
        """Whether the account posted `text` within the window and kept it. The newest post
        with that text decides: an older one is deleted or older still, or the newest would
        have been refused. Looked up by (account, text), not by reading every post: a
        benchmark's sandbox holds thousands, and each create scanned them all."""
        newest = self.state.kv["x-texts"].get(f"{user.id}\n{text}")
        post = self.state.find("x", newest) if newest else None
        since = self.state.now() - DUPLICATE_WINDOW
        return post is not None and not post.deleted and post.created_at >= since

    def delete(self, req: Request, tweet_id: str) -> Reply:
        user = self.user(req, write=True)
        if isinstance(user, Reply):
            return user
        post = self.state.find("x", tweet_id)
        if post is None or post.deleted:
            return not_found(tweet_id)
        if post.account != user.id:
            return problem(403, "You are not allowed to delete this Tweet.")
        self.state.delete("x", tweet_id)
        return Reply(200, {"data": {"deleted": True}})

    def verify(self, req: Request) -> Reply:
        user = self.user(req)
        if isinstance(user, Reply):
            return user
        data = {"id": user.id, "name": "Distributor Sandbox", "username": user.username}
        return Reply(200, {"data": data})

    def timeline(self, req: Request, user_id: str) -> Reply:
        user = self.user(req)
        if isinstance(user, Reply):
            return user
        from distributor.sandbox.x_timeline import timeline_page

        if "noread" in user.token:  # an access tier without timeline reads
            return client_forbidden()
        return timeline_page(req, self.state.posts("x"), user_id)

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        if kind == "duplicate" and status == 403:
            return problem(403, DUPLICATE)
        if kind == "invalid" and status == 400:
            return invalid_request("The request is invalid.")
        if kind == "not_found" and status == 404:
            return not_found("0")
        if status == 401:
            return problem(401, "Unauthorized")
        return problem(status, _phrase(status))

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        reply = problem(429, "Too Many Requests")
        reply.headers = self.rate_headers(limit or 100, 0, reset_at)
        return reply

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, remaining)),
            "x-rate-limit-reset": str(int(reset_at + 0.999)),
        }


def client_forbidden() -> Reply:
    """X's 403 for an app whose access level does not include the endpoint."""
    return problem(
        403,
        "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
        "tokens from a Twitter developer App that is attached to a Project. You can create a "
        "project via the developer portal.",
        kind=PROBLEMS + "client-forbidden",
        title="Client Forbidden",
        reason="client-not-enrolled",
        registration_url="https://developer.twitter.com/en/docs/projects/overview",
        required_enrollment="Appropriate Level of API Access",
    )


def not_found(tweet_id: str) -> Reply:
    """X's 404 for an unknown tweet (resource-not-found inside `errors`)."""
    error = {
        "value": tweet_id,
        "detail": f"Could not find tweet with id: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "id",
        "resource_id": tweet_id,
        "type": PROBLEMS + "resource-not-found",
    }
    return Reply(404, {"errors": [error], "title": "Not Found Error", "detail": error["detail"]})


def shorten(
    text: str, media: list[dict[str, Any]], username: str, tweet_id: str
) -> tuple[str, list[dict[str, Any]]]:
    """The text as X returns it (t.co links, media link appended, HTML-escaped) and its URLs."""
    from distributor.limits import extract_urls

    out, urls, pos = "", [], 0
    for found in extract_urls(text):
        start, end = found["indices"]
        out += text[pos:start]
        short = tco(found["url"])
        expanded = found["url"] if "://" in found["url"] else "http://" + found["url"]
        urls.append(_entity(len(out), short, expanded, found["url"]))
        out += short
        pos = end
    out += text[pos:]
    for number, item in enumerate(media, 1):
        short = tco(f"media:{item['media_id']}")
        out = f"{out} {short}" if out else short
        page = f"https://x.com/{username}/status/{tweet_id}/photo/{number}"
        entity = _entity(len(out) - len(short), short, page, f"pic.x.com/{short[13:]}")
        urls.append({**entity, "media_key": f"3_{item['media_id']}"})
    return html.escape(out, quote=False), urls


def _entity(start: int, short: str, expanded: str, display: str) -> dict[str, Any]:
    return {
        "start": start,
        "end": start + len(short),
        "url": short,
        "expanded_url": expanded,
        "display_url": display[:30],
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
