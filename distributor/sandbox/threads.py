"""Threads API emulator (`/threads/v1.0/...`): media containers, publishing, lookup, delete.

`POST /v1.0/{user}/threads` (media_type TEXT with optional `link_attachment`, or IMAGE with
`image_url`; text at most 500 as `distributor.limits.length("threads", ...)` counts) creates a
container; `POST /v1.0/{user}/threads_publish?creation_id=` publishes it, once, and enforces the
250-posts-per-24h publishing limit; `GET /v1.0/{id}?fields=` serves containers (`status`), posts
(`permalink`, `text`, ...) and `me`; `GET /v1.0/{user}/threads` lists own posts (newest first,
`since` honoured). Errors are Graph error objects (`distributor.sandbox.meta`, as Facebook's and
Instagram's emulators send them); the publishing limit answers with Meta's usage headers.
`DELETE /v1.0/{media}` is emulated: its existence on the real API is unverified. The token is
accepted as `Authorization: Bearer` or `access_token` parameter.
"""

from __future__ import annotations

import itertools
from typing import Any

from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page
from distributor.sandbox.meta import graph_error as meta_error
from distributor.sandbox.meta import graph_time, regain_minutes, usage_headers

VERSION = "v1.0"
TEXT_LIMIT = 500
PUBLISH_LIMIT, PUBLISH_WINDOW = 250, 24 * 3600.0
USERNAME = "distributor.sandbox"
_KINDS = {
    "auth": (190, "OAuthException", "Invalid OAuth access token - Cannot parse access token"),
    "forbidden": (10, "OAuthException", "Application does not have permission for this action"),
    "invalid": (100, "THApiException", "Invalid parameter"),
    "duplicate": (100, "THApiException", "Invalid parameter"),
    "not_found": (100, "GraphMethodException", "Unsupported request: object does not exist"),
    "server": (2, "OAuthException", "Service temporarily unavailable"),
}


def graph_error(status: int, code: int, message: str, kind: str = "THApiException") -> Reply:
    """A Graph error object as Threads sends it (its own `type` names, version v1.0)."""
    return meta_error(code, message, status=status, type=kind, version=VERSION)


class ThreadsEmulator(Emulator):
    """Two-step publishing with containers kept in the sandbox state."""

    platform = "threads"
    _ids = itertools.count(1)

    def routes(self) -> list[Route]:
        user = r"/v1\.0/(?P<user>[^/]+)"
        return [
            Route("GET", r"/v1\.0/me", self.me, "verify"),
            Route("POST", user + "/threads", self.create, "create"),
            Route("POST", user + "/threads_publish", self.publish, "publish"),
            Route("GET", user + "/threads", self.list_threads, "lookup"),
            Route("GET", r"/v1\.0/(?P<node>[^/]+)", self.get_node, "status"),
            Route("DELETE", r"/v1\.0/(?P<node>[^/]+)", self.delete, "delete"),
        ]

    def account_of(self, req: Request) -> str:
        auth = req.headers.get("authorization", "")
        return auth or f"token:{req.param('access_token') or ''}"

    def _authorized(self, req: Request) -> bool:
        auth = req.headers.get("authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else req.param("access_token")
        return bool(token)

    def _containers(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            store: dict[str, Any] = self.state.kv.setdefault("threads", {})
            containers: dict[str, dict[str, Any]] = store.setdefault("containers", {})
        return containers

    def create(self, req: Request, user: str) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        from distributor.limits import length

        media_type = (req.param("media_type") or "").upper()
        text = req.param("text") or ""
        if media_type not in ("TEXT", "IMAGE"):
            return graph_error(
                400, 100, "Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}"
            )
        if media_type == "TEXT" and not text:
            return graph_error(400, 100, "Param text is required for TEXT posts")
        if media_type == "IMAGE" and not req.param("image_url"):
            return graph_error(400, 100, "Param image_url is required for IMAGE posts")
        if length("threads", text) > TEXT_LIMIT:
            return graph_error(400, 100, f"Param text must be at most {TEXT_LIMIT} characters long")
        container = str(17_900_000_000_000_000 + next(self._ids))
        self._containers()[container] = {
            "user": user,
            "media_type": media_type,
            "text": text,
            "link_attachment": req.param("link_attachment"),
            "image_url": req.param("image_url"),
            "status": "FINISHED",
            "created": self.state.now(),
        }
        return Reply(200, {"id": container})

    def publish(self, req: Request, user: str) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        creation_id = req.param("creation_id") or ""
        container = self._containers().get(creation_id)
        if container is None or container["user"] != user:
            return graph_error(
                400, 100, f"Invalid parameter: creation_id {creation_id!r} not found"
            )
        if container["status"] == "PUBLISHED":
            return graph_error(400, 100, "The media container has already been published")
        now = self.state.now()
        recent = [
            p
            for p in self.state.posts("threads", include_deleted=True)
            if p.account == user and p.created_at > now - PUBLISH_WINDOW
        ]
        if len(recent) >= PUBLISH_LIMIT:
            return self.rate_limited_reply(
                min(p.created_at for p in recent) + PUBLISH_WINDOW, PUBLISH_LIMIT
            )
        data = {k: container[k] for k in ("media_type", "link_attachment", "image_url")}
        data["container_id"] = creation_id
        post = self.state.record("threads", user, container["text"], data)
        container.update(status="PUBLISHED", media_id=post.id)
        return Reply(200, {"id": post.id})

    def list_threads(self, req: Request, user: str) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        try:
            since = float(req.param("since") or 0)
            limit = min(100, int(req.param("limit") or 25))
            offset = int(req.param("after") or 0)  # the cursor is an offset here
        except ValueError:
            return graph_error(400, 100, "Invalid parameter")
        mine = [
            p for p in self.state.posts("threads") if p.account == user and p.created_at >= since
        ]
        mine.sort(key=lambda p: p.created_at, reverse=True)
        page = mine[offset : offset + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": str(offset), "after": str(offset + len(page))}
        }
        if offset + len(page) < len(mine):
            paging["next"] = f"/v1.0/{user}/threads?limit={limit}&after={offset + len(page)}"
        return Reply(200, {"data": [self._media(p) for p in page], "paging": paging})

    def me(self, req: Request) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        return Reply(
            200, {"id": "sandbox-user", "username": USERNAME, "name": "Distributor Sandbox"}
        )

    def get_node(self, req: Request, node: str) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        container = self._containers().get(node)
        if container is not None:
            return Reply(200, {"id": node, "status": container["status"]})
        post = self.state.find("threads", node)
        if post is None or post.deleted:
            return self.error_reply(400, "not_found")
        return Reply(200, self._media(post))

    def delete(self, req: Request, node: str) -> Reply:
        if not self._authorized(req):
            return self.error_reply(401, "auth")
        if not self.state.delete("threads", node):
            return self.error_reply(400, "not_found")
        return Reply(200, {"success": True})

    def _media(self, post: Any) -> dict[str, Any]:
        stamp = graph_time(post.created_at)
        return {
            "id": post.id,
            "media_product_type": "THREADS",
            "media_type": "TEXT_POST" if post.data.get("media_type") == "TEXT" else "IMAGE",
            "text": post.text,
            "link_attachment_url": post.data.get("link_attachment"),
            "permalink": f"https://www.threads.net/@{USERNAME}/post/S{post.id}",
            "timestamp": stamp,
            "username": USERNAME,
        }

    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        code, kind_name, message = _KINDS.get(kind, _KINDS["server"])
        return graph_error(status, code, message, kind_name)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        regain = regain_minutes(reset_at - self.state.now())
        reply = graph_error(400, 4, "Application request limit reached", "OAuthException")
        reply.headers.update(usage_headers("sandbox-user", 100, regain, kind="threads"))
        return reply
