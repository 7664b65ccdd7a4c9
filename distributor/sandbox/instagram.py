"""Instagram Graph API emulator (content publishing): containers, status, media_publish, media.

Paths are `/instagram/{version}/...` (any `vNN.N`, or none). `POST /{ig-user}/media` with
`image_url` and `caption` (at most 2,200 characters and 30 hashtags, counted by
`distributor.limits.length("instagram", ...)`; optional `alt_text`) makes a container;
`GET /{container}?fields=status_code,status` answers IN_PROGRESS, FINISHED, ERROR, EXPIRED (24 h
after creation) or PUBLISHED; `POST /{ig-user}/media_publish?creation_id=` publishes a FINISHED
container once, at most 50 posts per rolling 24 h ((#9) subcode 2207042); `GET /{ig-user}/media`
lists own posts newest first with cursor paging; `GET /{ig-user}/content_publishing_limit`
reports the quota; `GET /{media}` and `GET /{ig-user}` serve fields. The API has no delete.

The image URL steers the container as Meta's servers would: `unreachable` fails at once
((#9004) subcode 2207052, the media could not be fetched), `stuck` stays IN_PROGRESS, `slow` is
IN_PROGRESS for its first two status reads, `corrupt` ends in ERROR (subcode 2207004, image too
large). Tokens as on Facebook: `Authorization: Bearer|OAuth` or `access_token`; one containing
`expired` gets 190/463, `invalid` 190; none is (#104). Errors, usage headers and paging come from
`distributor.sandbox.meta`; injected errors: `auth` 190, `forbidden` (#10), `invalid` and
`duplicate` (#100: Instagram has no duplicate check), `not_found` (#100/33), `server` (#1 or
Instagram's -1/2207001 on 500; 503 -> #2; 429 -> #4).
"""

from __future__ import annotations

from typing import Any

from distributor.sandbox.emulator import Emulator, Post, Reply, Request, Route, html_error_page
from distributor.sandbox.meta import (
    fields_of,
    graph_error,
    graph_time,
    paged,
    regain_minutes,
    route_usage,
    trace_headers,
    usage_headers,
    window,
)

USER_ID = "17841400000000002"  # the account `me` is
USERNAME = "tageblatt_beispiel"
CAPTION_LIMIT, HASHTAG_LIMIT = 2200, 30
PUBLISH_LIMIT, PUBLISH_WINDOW = 50, 24 * 3600.0
CONTAINER_LIFE = 24 * 3600.0
_KINDS = {"auth": 190, "forbidden": 10, "invalid": 100, "duplicate": 100, "server": 1}
_SERVER = {429: 4, 503: 2}
_NOT_READY = "Media ID is not available"
_MEDIA = r"(?:/(?P<version>v\d+\.\d+))?/(?P<user>[^/]+)"


class InstagramEmulator(Emulator):
    """The content-publishing endpoints of one Instagram professional account."""

    platform = "instagram"

    def routes(self) -> list[Route]:
        v = r"(?:/(?P<version>v\d+\.\d+))?"
        return [
            Route("POST", _MEDIA + "/media", self.create, "create"),
            Route("POST", _MEDIA + "/media_publish", self.publish, "publish"),
            Route("GET", _MEDIA + "/media", self.media, "lookup"),
            Route("GET", _MEDIA + "/content_publishing_limit", self.quota, "quota"),
            Route("GET", v + r"/(?P<node>[^/]+)", self.node, "status"),
        ]

    # -- auth -----------------------------------------------------------------------------
    def account_of(self, req: Request) -> str:
        return f"token:{_token(req)}"

    def _denied(self, req: Request) -> Reply | None:
        token = _token(req)
        if not token:
            return graph_error(104)
        if "expired" in token:
            message = "Error validating access token: Session has expired on Thursday, 06-Oct-22."
            return graph_error(190, message, subcode=463)
        return graph_error(190) if "invalid" in token else None

    @property
    def _containers(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            kv: dict[str, Any] = self.state.kv.setdefault("instagram", {})
            found: dict[str, dict[str, Any]] = kv.setdefault("containers", {})
        return found

    # -- handlers -------------------------------------------------------------------------
    def create(self, req: Request, user: str, version: str | None = None) -> Reply:
        if (denied := self._denied(req)) is not None:
            return denied
        from distributor.limits import instagram_hashtags, utf16_units

        image_url, caption = req.param("image_url") or "", req.param("caption") or ""
        if not image_url.startswith(("http://", "https://")):
            return graph_error(100, "(#100) The parameter image_url is required.")
        if utf16_units(caption) > CAPTION_LIMIT:
            return graph_error(100, f"(#100) The caption must be at most {CAPTION_LIMIT} long.")
        if instagram_hashtags(caption) > HASHTAG_LIMIT:
            return graph_error(100, f"(#100) The caption has more than {HASHTAG_LIMIT} hashtags.")
        if "unreachable" in image_url:
            message = "Media download has failed. The media URI doesn't meet our requirements."
            return graph_error(9004, message, subcode=2207052)
        container = str(17_950_000_000_000_000 + self.state.next_id("instagram"))
        self._containers[container] = {
            "user": user,
            "caption": caption,
            "image_url": image_url,
            "alt_text": req.param("alt_text"),
            "created": self.state.now(),
            "reads": 0,
            "status": "IN_PROGRESS",
        }
        return Reply(200, {"id": container}, trace_headers(version))

    def publish(self, req: Request, user: str, version: str | None = None) -> Reply:
        if (denied := self._denied(req)) is not None:
            return denied
        creation_id = req.param("creation_id") or ""
        container = self._containers.get(creation_id)
        if container is None or container["user"] != user:
            return graph_error(24, "The requested resource does not exist", subcode=2207008)
        status = self._status(container)
        if status == "PUBLISHED":
            return graph_error(100, "(#100) The media container has already been published.")
        if status == "EXPIRED":
            return graph_error(
                -2, "The media you are trying to access has expired.", subcode=2207020
            )
        if status != "FINISHED":
            return graph_error(9007, _NOT_READY, subcode=2207027)
        recent = self._recent(user)
        if len(recent) >= PUBLISH_LIMIT:
            reset = min(p.created_at for p in recent) + PUBLISH_WINDOW
            return self._publish_limit(user, reset)
        data = {"image_url": container["image_url"], "container_id": creation_id}
        number = 17_890_000_000_000_000 + self.state.next_id("instagram")
        post = self.state.record("instagram", user, container["caption"], data, str(number))
        container.update(status="PUBLISHED", media_id=post.id)
        return Reply(200, {"id": post.id}, trace_headers(version))

    def media(self, req: Request, user: str, version: str | None = None) -> Reply:
        if (denied := self._denied(req)) is not None:
            return denied
        try:
            since, until, limit, start = window(req)
        except ValueError:
            return graph_error(100, "(#100) Invalid parameter: since, until, limit or after")
        posts = [
            p
            for p in self.state.posts("instagram")
            if p.account == user and since <= p.created_at <= until
        ]
        posts.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        fields = fields_of(req, "id")
        base = f"https://graph.facebook.com/{version or 'v21.0'}/{user}/media"
        chunk, paging = paged(posts, start, limit, f"{base}?fields={','.join(fields)}")
        body = {"data": [_media(p, fields) for p in chunk], "paging": paging}
        return Reply(200, body, trace_headers(version))

    def quota(self, req: Request, user: str, version: str | None = None) -> Reply:
        if (denied := self._denied(req)) is not None:
            return denied
        config = {"quota_total": PUBLISH_LIMIT, "quota_duration": int(PUBLISH_WINDOW)}
        body = {"data": [{"quota_usage": len(self._recent(user)), "config": config}]}
        return Reply(200, body, trace_headers(version))

    def node(self, req: Request, node: str, version: str | None = None) -> Reply:
        if (denied := self._denied(req)) is not None:
            return denied
        fields = fields_of(req, "id")
        if (container := self._containers.get(node)) is not None:
            status = self._status(container, read=True)
            full = {"id": node, "status_code": status, "status": _status_text(container, status)}
            return Reply(200, _pick(full, fields), trace_headers(version))
        post = self.state.find("instagram", node)
        if post is not None and not post.deleted:
            return Reply(200, _media(post, fields), trace_headers(version))
        users = {USER_ID, *(c["user"] for c in list(self._containers.values()))}
        if node == "me" or node in users:
            full = {"id": node if node != "me" else USER_ID, "username": USERNAME}
            full["name"] = "Tageblatt Beispiel"
            return Reply(200, _pick(full, fields), trace_headers(version))
        message = f"Unsupported get request. Object with ID '{node}' does not exist"
        return graph_error(100, message, subcode=33)

    # -- helpers --------------------------------------------------------------------------
    def _status(self, container: dict[str, Any], *, read: bool = False) -> str:
        """The container's status now (processing advances with each status read)."""
        with self.state.lock:
            if read:
                container["reads"] += 1
            if container["status"] == "PUBLISHED":
                return "PUBLISHED"
            if self.state.now() - container["created"] > CONTAINER_LIFE:
                return "EXPIRED"
            url = str(container["image_url"])
            if "corrupt" in url:
                return "ERROR"
            if "stuck" in url or ("slow" in url and container["reads"] <= 2):
                return "IN_PROGRESS"
            return "FINISHED"

    def _recent(self, user: str) -> list[Post]:
        since = self.state.now() - PUBLISH_WINDOW
        mine = self.state.posts("instagram", include_deleted=True)
        return [p for p in mine if p.account == user and p.created_at > since]

    def _publish_limit(self, user: str, reset_at: float) -> Reply:
        message = "The user has reached the maximum number of posts allowed in 24 hours."
        reply = graph_error(9, message, subcode=2207042)
        regain = regain_minutes(reset_at - self.state.now())
        reply.headers.update(usage_headers(user, 100, regain, "instagram"))
        return reply

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        if kind == "not_found":
            return graph_error(100, "Unsupported request", status=status, subcode=33)
        code = _SERVER.get(status, 1) if kind == "server" else _KINDS.get(kind, 1)
        if code == 1 and status == 500:
            return graph_error(-1, "Instagram server error.", status=500, subcode=2207001)
        reply = graph_error(code, status=status)
        if code == 4:
            reply.headers.update(usage_headers(USER_ID, 100, 0, "instagram"))
        return reply

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        reply = graph_error(4)
        regain = regain_minutes(reset_at - self.state.now())
        reply.headers.update(usage_headers(USER_ID, 100, regain, "instagram"))
        return reply

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return route_usage(USER_ID, limit, remaining, reset_at - self.state.now(), "instagram")


def _token(req: Request) -> str:
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return req.param("access_token") or ""


def _status_text(container: dict[str, Any], status: str) -> str:
    """The human `status` beside `status_code` (Meta names the subcode of a failure)."""
    if status == "ERROR":
        return "Error: Media upload has failed with error code 2207004"
    return {"IN_PROGRESS": "In Progress", "FINISHED": "Finished"}.get(status, status.title())


def _pick(full: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {k: v for k, v in full.items() if k in fields and v is not None}


def _media(post: Post, fields: list[str]) -> dict[str, Any]:
    full = {
        "id": post.id,
        "caption": post.text,
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "media_url": post.data.get("image_url"),
        "permalink": f"https://www.instagram.com/p/SBX{post.id[-8:]}/",
        "timestamp": graph_time(post.created_at),
        "username": USERNAME,
    }
    return _pick(full, fields)
