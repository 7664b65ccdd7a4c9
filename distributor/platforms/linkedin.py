"""LinkedIn Posts API adapter (plain `requests`; there is no maintained official Python client).

A post is `POST /rest/posts` with the versioned headers (`LinkedIn-Version: YYYYMM`,
`X-Restli-Protocol-Version: 2.0.0`); the article link becomes a `content.article` card. The new
post's URN comes back in the `x-restli-id` header of an empty 201.

`commentary` is "little text format": reserved characters must be backslash-escaped or LinkedIn
may silently truncate the post. We escape all of them except `#` directly before a word character,
so `#Ukraine` stays a working hashtag.

Ambiguity policy: LOOKUP. `GET /rest/posts?q=author&author=<urn>` lists the author's recent posts;
ours is the one whose article source is the draft's link (or whose commentary is the same text).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from distributor.errors import DuplicateContent, MaybeSent, PublishError, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.http import retry_after_seconds
from distributor.platforms.links import any_same
from distributor.platforms.rest import RestAdapter, body_of, status_error
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from distributor.secrets import Secret

# Reconcile pages back through the organization's posts up to this far (newest first).
LOOKUP_PAGE_SIZE = 50
LOOKUP_PAGES = 10
_RESERVED = re.compile(r"([\\|{}@\[\]()<>*_~])|#(?![^\W_])")  # "#tag" stays live; "#_" does not


def escape_commentary(text: str) -> str:
    """Backslash-escape little-text-format reserved characters, keeping `#hashtags` live."""
    return _RESERVED.sub(lambda m: "\\" + m.group(0), text)


def default_version(today: date | None = None) -> str:
    """Two months back: LinkedIn releases a version monthly and keeps each one about a year."""
    day = today or datetime.now(UTC).date()
    month = day.year * 12 + day.month - 1 - 2
    return f"{month // 12:04d}{month % 12 + 1:02d}"


class LinkedInAdapter(RestAdapter):
    """Posts as one author URN (organization or person) with one access token."""

    spec: ClassVar[PlatformSpec] = BUILTIN["linkedin"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["access_token"]
        self.author = options["author"]
        self.version = options.get("version") or default_version()

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        body: dict[str, Any] = {
            "author": self.author,
            "commentary": escape_commentary(draft.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if draft.link:
            article = {"source": draft.link, "title": draft.title or draft.link}
            if draft.description:
                article["description"] = draft.description
            body["content"] = {"article": article}
        response = self._call("POST", "/rest/posts", json=body, expect=201)
        urn = response.headers.get("x-restli-id", "")
        if not urn:
            raise MaybeSent("linkedin", self.channel.name, "201 without x-restli-id", status=201)
        return Receipt("linkedin", urn, post_url(urn), posted_at=datetime.now(UTC))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Page back (newest first) until a post older than `since`: only then is ours proven
        absent. One page was not enough: with more than 20 newer posts it was missed and sent
        again (found by the chaos soak)."""
        commentary = escape_commentary(draft.text)
        for page in range(LOOKUP_PAGES):
            params = {
                "q": "author",
                "author": self.author,
                "count": str(LOOKUP_PAGE_SIZE),
                "start": str(page * LOOKUP_PAGE_SIZE),
                "sortBy": "LAST_MODIFIED",
            }
            response = self._call("GET", "/rest/posts", params=params, expect=200)
            elements = body_of(response).get("elements") or []
            for post in elements:
                created = datetime.fromtimestamp(int(post.get("createdAt") or 0) / 1000, UTC)
                if created < since - timedelta(seconds=5):
                    return None  # older than the send: ours would have come before this one
                if is_ours(draft, post, commentary):
                    urn = str(post.get("id", ""))
                    return Receipt("linkedin", urn, post_url(urn), posted_at=created)
            if len(elements) < LOOKUP_PAGE_SIZE:
                return None
        detail = f"lookup: more than {LOOKUP_PAGES * LOOKUP_PAGE_SIZE} posts since {since:%H:%M}"
        raise MaybeSent("linkedin", self.channel.name, detail + ": cannot prove the post is absent")

    def delete(self, receipt: Receipt) -> None:
        self._call("DELETE", "/rest/posts/" + quote(receipt.remote_id, safe=""), expect=204)

    def verify(self) -> AccountInfo:
        """The organization's name (organization authors) or the member's (`/v2/userinfo`)."""
        kind, _, ident = self.author.removeprefix("urn:li:").partition(":")
        if kind == "organization":
            data = body_of(self._call("GET", f"/rest/organizations/{ident}", expect=200))
            name = str(data.get("localizedName") or ident)
            url = f"https://www.linkedin.com/company/{ident}/"
        else:
            data = body_of(self._call("GET", "/v2/userinfo", expect=200))
            name = str(data.get("name") or data.get("sub") or ident)
            url = None
        return AccountInfo("linkedin", self.author, name, url)

    # -- internals ------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, expect: int, **kwargs: Any) -> requests.Response:
        headers = {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"}
        return self.bearer(method, path, expect=expect, headers=headers, **kwargs)

    def error_for(self, response: requests.Response) -> PublishError:
        status, name = response.status_code, self.channel.name
        body = body_of(response)
        code = str(body.get("code") or body.get("serviceErrorCode") or status)
        message = scrub(str(body.get("message") or f"HTTP {status}"))[:300]
        if status not in (401, 403, 429) and "DUPLICATE_POST" in response.text:
            return DuplicateContent("linkedin", name, message, status=status, code="DUPLICATE_POST")
        if status == 426:
            detail = f"{message} (set the channel's version = YYYYMM to an active LinkedIn-Version)"
            return Rejected("linkedin", name, detail, status=status, code=code)
        header = response.headers.get("retry-after")
        wait = partial(retry_after_seconds, header, until_midnight_utc())
        return status_error("linkedin", name, status, f"{code}: {message}", code, wait)


def is_ours(draft: Draft, post: Mapping[str, Any], commentary: str) -> bool:
    """Whether a post is the draft: its article card's `source` is the draft's link
    (normalised), or its commentary is ours (escaped as we sent it)."""
    content = post.get("content") if isinstance(post.get("content"), dict) else {}
    article = (content or {}).get("article")
    source = article.get("source") if isinstance(article, dict) else None
    return any_same(draft.link, [source]) or post.get("commentary") == commentary


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def until_midnight_utc(now: datetime | None = None) -> float:
    """LinkedIn's daily quotas reset at midnight UTC."""
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()
