"""Pinterest API v5 adapter (plain `requests`; Pinterest keeps no maintained Python client).

A Pin is `POST /v5/pins` with JSON `{board_id, link, title, description, alt_text,
media_source: {source_type: "image_url", url}}`; Pinterest fetches the image itself and answers
201 with the Pin object. There is no text-only Pin: an article without an image is refused when
it is planned (the channel is skipped, see `PlatformSpec.requires_image`), and `publish` refuses a
draft without one before any request. The title (100) comes fitted from rendering
(`Draft.title`); the description (500) is the rendered text; the alt text is the image's.

Errors are `{"code": <int>, "message": "..."}` and mapped by HTTP status: 401 and 403 need new
credentials (AuthFailed), 429 waits for the reset (`Retry-After`, else `x-ratelimit-reset`),
other 4xx are permanent (Rejected), 5xx and lost answers may have created the Pin (MaybeSent).
Pinterest has no idempotency key and no duplicate check.

Ambiguity policy: LOOKUP. `GET /v5/boards/{board_id}/pins` pages back (`bookmark`) through the
board, newest first; ours is the Pin whose `link` is the draft's. A page whose Pins are all older
than the send proves ours absent, as does the end of the board; a lookup that cannot reach back
that far proves nothing (MaybeSent).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from distributor.errors import MaybeSent, PublishError, Rejected
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

LOOKUP_PAGE_SIZE = 100  # the API allows up to 250; 100 keeps each answer small
LOOKUP_PAGES = 5
ALT_TEXT_LIMIT = 500
DEFAULT_RATE_WAIT = 60.0  # no reset header: Standard access quotas are per minute
CLOCK_SKEW = timedelta(seconds=5)


class PinterestAdapter(RestAdapter):
    """Saves Pins to one board (`board_id`) with one user access token."""

    spec: ClassVar[PlatformSpec] = BUILTIN["pinterest"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["access_token"]
        self.board_id = options["board_id"]

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        if draft.image is None:  # planned before the rule, or edited: never a Pin without one
            raise Rejected(
                "pinterest", self.channel.name, "a Pin needs an image; the draft has none"
            )
        pin = body_of(
            self.bearer("POST", "/v5/pins", json=pin_body(draft, self.board_id), expect=201)
        )
        pin_id = str(pin.get("id") or "")
        if not pin_id:
            raise MaybeSent("pinterest", self.channel.name, "201 without a Pin id", status=201)
        return Receipt("pinterest", pin_id, pin_url(pin_id), posted_at=datetime.now(UTC))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Page back through the board until a whole page predates the send (or the board
        ends): only then is ours proven absent."""
        params = {"page_size": str(LOOKUP_PAGE_SIZE)}
        path = f"/v5/boards/{quote(self.board_id, safe='')}/pins"
        for _ in range(LOOKUP_PAGES):
            body = body_of(self.bearer("GET", path, params=params, expect=200))
            pins = [p for p in body.get("items") or [] if isinstance(p, dict)]
            for pin in pins:
                if any_same(draft.link, [pin.get("link")]):
                    pin_id = str(pin.get("id") or "")
                    return Receipt("pinterest", pin_id, pin_url(pin_id), posted_at=created(pin))
            if pins and all(_before(pin, since - CLOCK_SKEW) for pin in pins):
                return None  # newest first: ours would have come before this page
            bookmark = body.get("bookmark")
            if not bookmark:
                return None  # the whole board was seen
            params = {**params, "bookmark": str(bookmark)}
        detail = f"lookup: more than {LOOKUP_PAGES * LOOKUP_PAGE_SIZE} Pins since {since:%H:%M}"
        raise MaybeSent(
            "pinterest", self.channel.name, detail + ": cannot prove the post is absent"
        )

    def delete(self, receipt: Receipt) -> None:
        self.bearer("DELETE", "/v5/pins/" + quote(receipt.remote_id, safe=""), expect=204)

    def verify(self) -> AccountInfo:
        """The account's username and the board's name (the board must be readable)."""
        user = body_of(self.bearer("GET", "/v5/user_account", expect=200))
        path = f"/v5/boards/{quote(self.board_id, safe='')}"
        board = body_of(self.bearer("GET", path, expect=200))
        username = str(user.get("username") or "")
        name = f"{username or 'Pinterest'} / {board.get('name') or self.board_id}"
        url = f"https://www.pinterest.com/{username}/" if username else None
        return AccountInfo("pinterest", self.board_id, name, url)

    # -- internals ------------------------------------------------------------------------
    def error_for(self, response: requests.Response) -> PublishError:
        status, name = response.status_code, self.channel.name
        body = body_of(response)
        code = str(body.get("code") if body.get("code") is not None else status)
        label = f"({code}) {scrub(str(body.get('message') or f'HTTP {status}'))[:300]}"
        if status in (401, 403):
            label += " (the token needs pins:write and boards:read on this board)"
        elif status == 404:
            label += " (check the channel's board_id)"
        wait = partial(rate_wait, response.headers)
        return status_error("pinterest", name, status, label, code, wait, noun="Pin")


def pin_body(draft: Draft, board_id: str) -> dict[str, Any]:
    """The `POST /v5/pins` JSON for `draft` (which has an image)."""
    assert draft.image is not None
    body: dict[str, Any] = {
        "board_id": board_id,
        "media_source": {"source_type": "image_url", "url": draft.image.url},
    }
    fields = {"title": draft.title, "description": draft.text, "link": draft.link}
    body.update({k: v for k, v in fields.items() if v})
    alt = alt_text(draft.image.alt or "")
    if alt:
        body["alt_text"] = alt
    return body


def alt_text(alt: str, limit: int = ALT_TEXT_LIMIT) -> str:
    """The image description within Pinterest's 500 characters, cut at a word with "…"."""
    alt = " ".join(alt.split())
    if len(alt) <= limit:
        return alt
    head = alt[: limit - 1].rsplit(" ", 1)[0] if " " in alt[: limit - 1] else alt[: limit - 1]
    return head.rstrip(",;:–- ") + "…"


def rate_wait(headers: Mapping[str, str]) -> float:
    """Seconds until the quota resets: `Retry-After`, else `x-ratelimit-reset` (seconds, or an
    epoch time when it is that large), else one minute."""
    if headers.get("retry-after"):
        return retry_after_seconds(headers.get("retry-after"), DEFAULT_RATE_WAIT)
    try:
        reset = float(headers.get("x-ratelimit-reset") or "")
    except ValueError:
        return DEFAULT_RATE_WAIT
    return max(0.0, reset - time.time() if reset > 1e9 else reset)


def created(pin: Mapping[str, Any]) -> datetime | None:
    """A Pin's `created_at` ("2026-03-01T12:00:00", UTC) as an aware datetime."""
    try:
        when = datetime.fromisoformat(str(pin.get("created_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _before(pin: Mapping[str, Any], moment: datetime) -> bool:
    when = created(pin)
    return when is not None and when < moment


def pin_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{pin_id}/"
