"""Mastodon adapter (plain `requests`): statuses with Idempotency-Key, media v2 with alt text.

Why not Mastodon.py: it sleeps and retries on rate limits by itself (`ratelimit_method`), retries
some failures, and pulls in extra weight; we need exactly one attempt per call with our own typed
errors. The access token goes only in the `Authorization: Bearer` header.

Ambiguity policy: RESEND_WITH_KEY. Mastodon keeps our `Idempotency-Key` (the delivery key) for one
hour per account, so reconciliation may resend with the same key within ~50 minutes and gets the
original status back; later, `lookup()` pages back through the account's own statuses to the
send and matches the article link among the hrefs of each status's HTML (`&amp;` and all) and its
card, or the status's visible text; past its page budget it cannot prove absence (MaybeSent).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn
from urllib.parse import parse_qs, urlsplit

from distributor.errors import (
    AuthFailed,
    ConfigError,
    MaybeSent,
    NotSent,
    RateLimited,
    Rejected,
)
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.http import retry_after_seconds
from distributor.platforms.links import any_same, html_links, html_text, same_text
from distributor.platforms.media import fetch_image
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from distributor.secrets import Secret

log = logging.getLogger(__name__)
VISIBILITIES = ("public", "unlisted", "private", "direct")
DEFAULT_RATE_WAIT = 300.0  # Mastodon's windows are 5 minutes
DEFAULT_INSTANCE = "https://mastodon.social"
LOOKUP_PAGE_SIZE = 40  # Mastodon's maximum
LOOKUP_PAGES = 13  # 520 statuses since the attempt began: more means "cannot prove absence"


class MastodonAdapter(RestAdapter):
    """Posts as the account the access token belongs to."""

    spec: ClassVar[PlatformSpec] = BUILTIN["mastodon"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["access_token"]
        self.visibility = options.get("visibility") or "public"
        if self.visibility not in VISIBILITIES:
            raise ConfigError(
                f"channel {self.channel.name}: visibility must be one of "
                f"{', '.join(VISIBILITIES)}, not {self.visibility!r}"
            )
        instance = options.get("instance")
        if instance and self.http.base_url == DEFAULT_INSTANCE:
            self.http.base_url = instance.rstrip("/")
        self.account_id = options.get("account_id") or ""

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        params: dict[str, Any] = {"status": draft.text, "visibility": self.visibility}
        if draft.language:
            params["language"] = draft.language
        media_id = self._upload(draft) if draft.image is not None else None
        if media_id:
            params["media_ids"] = [media_id]
        headers = {"Idempotency-Key": key}
        response = self._call("POST", "/api/v1/statuses", json=params, headers=headers)
        return _receipt(body_of(response), rate_extra(response.headers))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Page back through the account's statuses (newest first, `max_id` from the Link
        header) until one older than `since`: only then is ours proven absent. A status is
        ours when a link in its HTML (or its card) is the draft's link, or its text is ours."""
        account = self.account_id or self.verify().account_id
        params = {"limit": str(LOOKUP_PAGE_SIZE), "exclude_reblogs": "true"}
        params["exclude_replies"] = "true"
        for _ in range(LOOKUP_PAGES):
            response = self._call("GET", f"/api/v1/accounts/{account}/statuses", params=params)
            statuses = _statuses(response)
            for status in statuses:
                created = _time(status.get("created_at"))
                if created is not None and created < since - timedelta(seconds=5):
                    return None  # older than the send: ours would have come before this one
                if is_ours(draft, status):
                    return _receipt(status)
            older = next_max_id(response, statuses)
            if older is None:
                return None  # the account has no older statuses
            params = {**params, "max_id": older}
        detail = f"lookup: more than {LOOKUP_PAGES * LOOKUP_PAGE_SIZE} statuses since {since:%H:%M}"
        raise MaybeSent("mastodon", self.channel.name, detail + ": cannot prove the post is absent")

    def delete(self, receipt: Receipt) -> None:
        try:
            self._call("DELETE", f"/api/v1/statuses/{receipt.remote_id}")
        except Rejected as exc:
            if exc.status != 404:
                raise
            log.info("mastodon/%s: status %s already gone", self.channel.name, receipt.remote_id)

    def verify(self) -> AccountInfo:
        data = body_of(self._call("GET", "/api/v1/accounts/verify_credentials"))
        if data.get("suspended") is True:  # the instance took the account down: posts fail
            raise AuthFailed(
                "mastodon",
                self.channel.name,
                f"account @{data.get('acct', '?')} is suspended by its instance "
                "(verify_credentials: suspended true)",
                code="suspended",
            )
        self.account_id = str(data.get("id") or "")
        return AccountInfo(
            "mastodon",
            self.account_id,
            f"@{data.get('acct', '?')}"
            + (f" ({data['display_name']})" if data.get("display_name") else ""),
            data.get("url"),
        )

    def max_characters(self) -> int:
        """The instance's status limit (`GET /api/v2/instance`), 500 when not stated."""
        data = body_of(self._call("GET", "/api/v2/instance"))
        statuses = (data.get("configuration") or {}).get("statuses") or {}
        limit = statuses.get("max_characters")
        return int(limit) if isinstance(limit, int) else 500

    # -- internals ------------------------------------------------------------------------
    def _upload(self, draft: Draft) -> str | None:
        assert draft.image is not None
        image = fetch_image(self.http.session, draft.image.url, timeout=self.http.timeout[1])
        if image is None:
            return None  # post the text without the picture rather than not at all
        files = {"file": (image.filename, image.data, image.content_type)}
        data = {"description": draft.image.alt} if draft.image.alt else {}
        try:
            media = body_of(self._call("POST", "/api/v2/media", files=files, data=data))
        except MaybeSent as exc:  # an unattached upload is invisible: nothing was posted
            raise NotSent("mastodon", self.channel.name, f"media upload: {exc.detail}") from None
        return str(media.get("id") or "") or None

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token.reveal()}", **kwargs.pop("headers", {})}
        response = self.http.call(method, path, headers=headers, **kwargs)
        if 200 <= response.status_code < 300:
            return response
        self._raise(response)

    def _raise(self, response: requests.Response) -> NoReturn:
        status, name = response.status_code, self.channel.name
        body = body_of(response)
        message = scrub(str(body.get("error") or f"HTTP {status}"))[:300]
        if status == 429:
            wait, reset = rate_wait(response.headers)
            raise RateLimited("mastodon", name, message, retry_after=wait, reset_at=reset)
        if status in (401, 403):
            raise AuthFailed("mastodon", name, message, status=status, code=str(status))
        if 400 <= status < 500:
            raise Rejected("mastodon", name, message, status=status, code=str(status))
        raise MaybeSent("mastodon", name, f"HTTP {status}: the post may exist", status=status)


def rate_wait(headers: Mapping[str, str]) -> tuple[float, datetime | None]:
    """Seconds until `X-RateLimit-Reset` (ISO-8601), else Retry-After, else 5 minutes."""
    reset = _time(headers.get("x-ratelimit-reset"))
    if reset is not None:
        return max(0.0, (reset - datetime.now(UTC)).total_seconds()), reset
    return retry_after_seconds(headers.get("retry-after"), DEFAULT_RATE_WAIT), None


def _time(value: Any) -> datetime | None:
    """An ISO-8601 time as Mastodon writes it (`2026-08-01T15:00:00.627625Z`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def rate_extra(headers: Mapping[str, str]) -> dict[str, str]:
    """`rate_remaining`/`rate_reset` from `X-RateLimit-Remaining/-Reset` (dispatch paces)."""
    left, reset = headers.get("x-ratelimit-remaining", ""), _time(headers.get("x-ratelimit-reset"))
    if not left.isdigit() or reset is None:
        return {}
    return {"rate_remaining": left, "rate_reset": reset.isoformat()}


def is_ours(draft: Draft, status: Mapping[str, Any]) -> bool:
    """Whether a status (as the API returns it) is the draft: a link in its `content` HTML or
    its card is the draft's link (normalised: `&amp;`, case, escapes), or its text is ours."""
    content = str(status.get("content") or "")
    card = status.get("card")
    card = card if isinstance(card, dict) else {}
    if draft.link and any_same(draft.link, [*html_links(content), str(card.get("url") or "")]):
        return True
    return bool(draft.text.strip()) and same_text(html_text(content), draft.text)


def next_max_id(response: requests.Response, statuses: list[dict[str, Any]]) -> str | None:
    """The `max_id` of the next (older) page: from the Link header's `rel="next"`; without a
    Link header, the oldest id of a full page; None when there is no older page."""
    if "link" in response.headers:
        target = response.links.get("next", {}).get("url")
        found = parse_qs(urlsplit(target).query).get("max_id") if target else None
        return found[0] if found else None
    if len(statuses) < LOOKUP_PAGE_SIZE:
        return None
    return str(statuses[-1].get("id") or "") or None


def _statuses(response: requests.Response) -> list[dict[str, Any]]:
    body = response.json() if response.content else []
    return [s for s in body if isinstance(s, dict)] if isinstance(body, list) else []


def _receipt(status: Mapping[str, Any], extra: dict[str, str] | None = None) -> Receipt:
    return Receipt(
        "mastodon",
        str(status.get("id") or ""),
        status.get("url"),
        posted_at=_time(status.get("created_at")),
        extra=extra or {},
    )
