"""Instagram adapter: Graph API content publishing for a professional account (plain `requests`).

Three steps: make a media container (`POST /{ig-user}/media` with the article image's public
`image_url`, the `caption` and the image's `alt_text`), wait until Meta has fetched and processed
the image (`GET /{container}?fields=status_code,status` until FINISHED, polling with growing
pauses up to `POLL_DEADLINE` seconds), then `POST /{ig-user}/media_publish?creation_id=`. A
container is invisible until published, so any failure before the publish step is NotSent; a
container that is still processing is kept for the next attempt (it lives 24 hours), one that
failed or expired is dropped. Only the publish step can end in MaybeSent.

Instagram posts need an image (the channel refuses image-less articles at plan time), captions
hold at most 2,200 characters and 30 hashtags (`distributor.limits.instagram_length`), and links
in captions are not clickable: the templates print the channel's `link_hint` ("Link in bio")
and the article's address as plain text. That address is the caption marker reconcile matches.

Ambiguity policy: LOOKUP in `GET /{ig-user}/media` (newest first) back to the attempt's start:
a post whose caption carries the draft's address, or is the draft's text, is ours. The API
cannot delete posts. Errors: `distributor.platforms.meta` (Instagram's subcodes included).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn
from urllib.parse import urlsplit

from distributor.errors import MaybeSent, NotSent, PublishError, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.links import same_text
from distributor.platforms.meta import (
    CONTAINER_GONE,
    Kind,
    account,
    answer_error,
    container_not_sent,
    graph_time,
    graph_version,
    kind_of,
    usage_extra,
    walk,
)
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import requests

    from distributor.secrets import Secret

POLL_DEADLINE = 30.0  # seconds to wait for a container; then NotSent, the container is kept
POLL_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)  # then 8 s each until the deadline
LOOKUP_PAGE_SIZE, LOOKUP_PAGES = 50, 6
_FAILED_CODE = re.compile(r"error code (\d+)")


class InstagramAdapter(RestAdapter):
    """Posts as one Instagram professional account (`ig_user_id`) with its access token."""

    spec: ClassVar[PlatformSpec] = BUILTIN["instagram"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["access_token"]
        self.user_id = options["ig_user_id"]
        self.version = graph_version(self.channel.name, options.get("graph_version"))
        self.containers: dict[str, str] = {}  # delivery key -> container not yet published
        self.sleep: Callable[[float], None] = time.sleep
        self.clock: Callable[[], float] = time.monotonic

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        if draft.image is None:
            raise Rejected("instagram", self.channel.name, "an Instagram post needs an image")
        container = self.containers.get(key) or self._create(draft)
        self.containers[key] = container
        try:
            self._wait_finished(container)
            response = self._call("POST", "media_publish", data={"creation_id": container})
        except NotSent as exc:
            if _gone(exc.code):
                self.containers.pop(key, None)  # make a new one next time
            raise
        except Exception:
            self.containers.pop(key, None)  # MaybeSent/Rejected: never publish it twice
            raise
        self.containers.pop(key, None)
        media_id = str(body_of(response).get("id") or "")
        if not media_id:
            raise MaybeSent("instagram", self.channel.name, "no media id in the answer")
        extra = {"container_id": container, **usage_extra(response.headers)}
        return Receipt(
            "instagram",
            media_id,
            self._permalink(media_id),
            posted_at=datetime.now(UTC),
            extra=extra,
        )

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Walk the account's media newest first until one is older than `since`: up to there,
        ours is either found or proven absent (the listing has no `since` filter of its own)."""
        params = {"fields": "id,caption,timestamp,permalink", "limit": str(LOOKUP_PAGE_SIZE)}
        floor = since - timedelta(seconds=5)

        def fetch(args: dict[str, str]) -> dict[str, Any]:
            return body_of(self._call("GET", "media", params=args))

        name = self.channel.name
        for post in walk(
            fetch, params, pages=LOOKUP_PAGES, platform="instagram", channel=name, since=since
        ):
            created = graph_time(post.get("timestamp"))
            if created is not None and created < floor:
                return None  # newest first: everything further is older still
            if is_ours(draft, post):
                url = post.get("permalink")
                return Receipt("instagram", str(post.get("id")), url, posted_at=created)
        return None

    def delete(self, receipt: Receipt) -> None:
        raise Rejected(
            "instagram",
            self.channel.name,
            f"the Instagram API cannot delete posts: remove {receipt.url or receipt.remote_id} "
            "in the app",
        )

    def verify(self) -> AccountInfo:
        data = body_of(self._call("GET", "", params={"fields": "id,username,name"}))
        return account("instagram", data, self.user_id, "https://www.instagram.com/{}/")

    # -- internals ------------------------------------------------------------------------
    def _create(self, draft: Draft) -> str:
        assert draft.image is not None
        data = {"image_url": draft.image.url, "caption": draft.text}
        if draft.image.alt:
            data["alt_text"] = draft.image.alt
        try:
            body = body_of(self._call("POST", "media", data=data))
        except MaybeSent as exc:
            raise container_not_sent("instagram", self.channel.name, exc) from None
        container = str(body.get("id") or "")
        if not container:
            raise NotSent("instagram", self.channel.name, "no container id in the answer")
        return container

    def _wait_finished(self, container: str) -> None:
        """Poll the container until FINISHED; bounded by POLL_DEADLINE."""
        deadline = self.clock() + POLL_DEADLINE
        for pause in (0.0, *POLL_PAUSES, *[POLL_PAUSES[-1]] * int(POLL_DEADLINE)):
            if pause and self.clock() + pause > deadline:
                break
            self.sleep(pause)
            params = {"fields": "status_code,status"}
            data = body_of(self._call("GET", f"/{container}", params=params, node=True))
            status = data.get("status_code")
            if status == "FINISHED":
                return
            if status != "IN_PROGRESS":
                self._container_failed(container, str(status), str(data.get("status") or ""))
        raise NotSent(
            "instagram",
            self.channel.name,
            f"container {container} still IN_PROGRESS after {POLL_DEADLINE:.0f} s",
        )

    def _container_failed(self, container: str, status: str, text: str) -> NoReturn:
        """ERROR, EXPIRED or PUBLISHED: this container will never be published by us."""
        name, detail = self.channel.name, f"container {status}: {scrub(text)[:200]}".rstrip(": ")
        if status == "PUBLISHED":  # published by an attempt whose answer was lost
            raise MaybeSent("instagram", name, detail)
        found = _FAILED_CODE.search(text)
        sub = int(found.group(1)) if found else None
        label = f"{status}/{sub}" if sub else status
        if status == "EXPIRED" or kind_of(None, sub) in (Kind.RETRY, Kind.TRANSIENT):
            raise NotSent("instagram", name, detail, code=label)  # a new container may work
        raise Rejected("instagram", name, detail, code=label)

    def _permalink(self, media_id: str) -> str | None:
        try:
            data = body_of(
                self._call("GET", f"/{media_id}", params={"fields": "permalink"}, node=True)
            )
        except Exception:  # the post exists; a missing URL must not turn success into failure
            return None
        link = data.get("permalink")
        return str(link) if link else None

    def _call(
        self, method: str, edge: str, *, node: bool = False, **kwargs: Any
    ) -> requests.Response:
        """One Graph call: `edge` of the account (`media`), or a node path (`/{id}`)."""
        path = edge if node else f"/{self.user_id}" + (f"/{edge}" if edge else "")
        return self.bearer(method, f"/{self.version}{path}", **kwargs)

    def error_for(self, response: requests.Response) -> PublishError:
        return answer_error("instagram", self.channel.name, response)


def _gone(label: str | None) -> bool:
    """Whether a NotSent's code ("24/2207008", "EXPIRED", "ERROR/2207003") says the container
    can never be published: the next attempt must make a new one."""
    code, _, sub = (label or "").partition("/")
    return code in ("EXPIRED", "ERROR") or (sub.isdigit() and int(sub) in CONTAINER_GONE)


def marker(link: str) -> str:
    """The caption marker of a draft: its address as readers see it, without scheme, query or
    fragment (`www.tageblatt-beispiel.de/lokales/radbruecke`)."""
    parts = urlsplit(link)
    return (parts.netloc.lower() + parts.path.rstrip("/")) if parts.netloc else ""


def is_ours(draft: Draft, post: Mapping[str, Any]) -> bool:
    """Whether a listed post is the draft: its caption carries the draft's marker (followed by
    no further path), or it is the draft's text."""
    caption = str(post.get("caption") or "")
    mark = marker(draft.link)
    if mark and re.search(re.escape(mark) + r"/?(?![\w/.-]*\w)", caption, re.IGNORECASE):
        return True
    return bool(draft.text.strip()) and same_text(caption, draft.text)
