"""Threads API adapter (plain `requests`; Meta ships no Python client for Threads).

Publishing is two steps: create a media container (`POST /v1.0/{user}/threads`, TEXT with a
`link_attachment` preview, or IMAGE with the article image's public URL), then publish it
(`POST /v1.0/{user}/threads_publish?creation_id=`). A container is invisible until published,
so any failure while creating it means nothing was posted (NotSent); only the publish step can
end in MaybeSent. The container id is a natural idempotency token: it is kept per delivery key,
and a retry after a failed publish step publishes the same container instead of making another.

The token goes in the `Authorization: Bearer` header, never in URLs or logs.

Ambiguity policy: LOOKUP via `GET /v1.0/{user}/threads` (own recent posts), matching the link
attachment or the text, created after the attempt began.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from distributor.errors import MaybeSent, NotSent, PublishError, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.links import URL_IN_TEXT, any_same, same_text, unshim
from distributor.platforms.meta import account, answer_error, container_not_sent, graph_time, walk
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from distributor.secrets import Secret

VERSION = "v1.0"
LOOKUP_PAGE_SIZE = 100  # the API's largest page
LOOKUP_PAGES = 5
STATUS_POLLS = (0.5, 1.0, 2.0)  # seconds to wait for an IMAGE container to finish processing


class ThreadsAdapter(RestAdapter):
    """Posts as one Threads user (`user_id`) with that user's access token."""

    spec: ClassVar[PlatformSpec] = BUILTIN["threads"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["access_token"]
        self.user_id = options["user_id"]
        self.containers: dict[str, str] = {}  # delivery key -> container id not yet published
        self.sleep = time.sleep

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        container = self.containers.get(key) or self._create(draft)
        self.containers[key] = container
        try:
            if draft.image is not None:
                self._wait_finished(container)
            data = body_of(
                self._call(
                    "POST", f"/{self.user_id}/threads_publish", data={"creation_id": container}
                )
            )
        except NotSent:
            raise  # the same container is published on the next attempt
        except Exception:
            self.containers.pop(key, None)  # MaybeSent/Rejected: never publish it twice
            raise
        self.containers.pop(key, None)
        media_id = str(data.get("id", ""))
        return Receipt(
            "threads",
            media_id,
            self._permalink(media_id),
            posted_at=datetime.now(UTC),
            extra={"container_id": container},
        )

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Follow the `after` cursor back to `since`: only then is ours proven absent. One page
        of 25 was not enough: behind 25 newer posts ours was missed and published again (found
        by the chaos soak)."""
        params = {
            "fields": "id,text,link_attachment_url,timestamp,permalink",
            "since": str(int(since.timestamp()) - 5),
            "limit": str(LOOKUP_PAGE_SIZE),
        }

        def fetch(args: dict[str, str]) -> dict[str, Any]:
            return body_of(self._call("GET", f"/{self.user_id}/threads", params=args))

        name = self.channel.name
        for post in walk(
            fetch, params, pages=LOOKUP_PAGES, platform="threads", channel=name, since=since
        ):
            created = graph_time(post.get("timestamp"))
            if created is not None and created < since - timedelta(seconds=5):
                continue
            if is_ours(draft, post):
                url = post.get("permalink")
                return Receipt("threads", str(post.get("id")), url, posted_at=created)
        return None

    def delete(self, receipt: Receipt) -> None:
        self._call("DELETE", f"/{receipt.remote_id}")

    def verify(self) -> AccountInfo:
        data = body_of(self._call("GET", "/me", params={"fields": "id,username,name"}))
        return account("threads", data, self.user_id, "https://www.threads.net/@{}")

    # -- internals ------------------------------------------------------------------------
    def _create(self, draft: Draft) -> str:
        params: dict[str, str] = {"text": draft.text}
        if draft.image is not None:
            params.update(media_type="IMAGE", image_url=draft.image.url)
        else:
            params["media_type"] = "TEXT"
            if draft.link:
                params["link_attachment"] = draft.link
        try:
            data = body_of(self._call("POST", f"/{self.user_id}/threads", data=params))
        except MaybeSent as exc:
            raise container_not_sent("threads", self.channel.name, exc) from None
        container = str(data.get("id") or "")
        if not container:
            raise NotSent("threads", self.channel.name, "no container id in the answer")
        return container

    def _wait_finished(self, container: str) -> None:
        for wait in (0.0, *STATUS_POLLS):
            self.sleep(wait)
            data = body_of(
                self._call("GET", f"/{container}", params={"fields": "status,error_message"})
            )
            status = data.get("status")
            if status in ("FINISHED", None):
                return
            if status in ("ERROR", "EXPIRED", "PUBLISHED"):
                detail = f"container {status}: {scrub(str(data.get('error_message') or ''))}"
                raise Rejected("threads", self.channel.name, detail.rstrip(": "))
        raise NotSent("threads", self.channel.name, "image container still processing")

    def _permalink(self, media_id: str) -> str | None:
        try:
            data = body_of(self._call("GET", f"/{media_id}", params={"fields": "permalink"}))
        except Exception:  # the post exists; a missing URL must not turn success into failure
            return None
        link = data.get("permalink")
        return str(link) if link else None

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.bearer(method, f"/{VERSION}{path}", **kwargs)

    def error_for(self, response: requests.Response) -> PublishError:
        return answer_error("threads", self.channel.name, response)


def is_ours(draft: Draft, post: Mapping[str, Any]) -> bool:
    """Whether a Threads post is the draft: its `link_attachment_url` (possibly behind Meta's
    l.threads.net shim) or a URL in its text is the draft's link, normalised; or the same text."""
    text = str(post.get("text") or "")
    found: list[object] = [unshim(str(post.get("link_attachment_url") or ""))]
    found.extend(URL_IN_TEXT.findall(text))
    return any_same(draft.link, found) or (bool(draft.text.strip()) and same_text(text, draft.text))
