"""Facebook Graph API emulator (Pages): feed and photo posts, delete, published_posts, page/me.

Paths are `/facebook/{version}/...` with any `vNN.N` version (or none, like the real API), and
every answer carries `facebook-api-version`. Posts get ids `{page}_{post}`; photos answer
`{"id", "post_id"}`; `published_posts` lists a page's own posts newest first with `since`,
`until`, `limit`, `fields` and cursor paging. Errors are Graph error objects
`{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id", "is_transient"?}}` plus a
`WWW-Authenticate` header, with the HTTP status Graph uses (400 for most codes, 403 for
permissions, 500/503 for codes 1/2). The same message twice in a row on a page is `(#506)`.

Tokens (`Authorization: Bearer|OAuth`, or `access_token` in the query or form): any non-empty
token is a page token; one containing `expired` gets 190/463, `invalid` 190, `readonly` (#200)
on writes; none at all is (#104). A photo `url` containing `unreachable` is (#324), as if Graph
could not download it. Injected errors: `auth` (190), `forbidden` (#200 with status 403, else
#368 policy block), `invalid` (#100), `duplicate` (#506), `not_found` (#100/33), `server` (#1;
503 -> #2; 429 -> the app throttle #4, no regain estimate). Rate limits answer (#32) with
`X-App-Usage`, `X-Page-Usage` and `X-Business-Use-Case-Usage` (percentages;
`estimated_time_to_regain_access` in minutes; a fault reset under a minute as a fraction), built
by `distributor.sandbox.meta`, which the Instagram emulator shares.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from distributor.sandbox.emulator import (
    Emulator,
    Post,
    Reply,
    Request,
    Route,
    UploadedFile,
    html_error_page,
)
from distributor.sandbox.meta import (
    API_VERSION,
    RATE_CODES,
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

PAGE_ID = "104857600000001"  # the page `/me` is for a token that has not posted yet
PAGE_NAME = "Distributor Sandbox"
MESSAGE_LIMIT = 63206
PHOTO_BASE = 900_000_000_000_000
_UNSUPPORTED = (
    "Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded due "
    "to missing permissions, or does not support this operation. Please read the Graph API "
    "documentation at https://developers.facebook.com/docs/graph-api"
)
_KINDS = {"auth": 190, "forbidden": 200, "invalid": 100, "duplicate": 506, "server": 1}
_SERVER_CODES = {429: 4, 503: 2}  # Graph never sends 429: a "429" fault is the app throttle (#4)


class FacebookEmulator(Emulator):
    """The Graph API endpoints of a Page that `distributor` uses."""

    platform = "facebook"
    # Pages BUC: 4,800 calls x engaged users per rolling 24 h; the base figure as a default.
    default_limits: ClassVar[dict[str, tuple[int, float]]] = {"create": (4800, 24 * 3600.0)}

    def routes(self) -> list[Route]:
        v = r"(?:/(?P<version>v\d+\.\d+))?"
        node = r"/(?P<node>[^/]+)"
        return [
            Route("POST", v + node + r"/feed", self.create_feed, "create"),
            Route("POST", v + node + r"/photos", self.create_photo, "create"),
            Route("GET", v + node + r"/(?:published_posts|posts|feed)", self.published, "lookup"),
            Route("GET", v + node, self.get_node, "verify"),
            Route("DELETE", v + node, self.delete, "delete"),
        ]

    # -- auth -----------------------------------------------------------------------------
    @staticmethod
    def token_of(req: Request) -> str:
        auth = req.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return req.param("access_token") or ""

    def account_of(self, req: Request) -> str:
        return f"token:{self.token_of(req)}"

    def _auth(self, req: Request, write: bool = False) -> str | Reply:
        token = self.token_of(req)
        if not token:
            return graph_error(104)
        if "expired" in token:
            now = time.strftime("%A, %d-%b-%y %H:%M:%S PST", time.gmtime(self.state.now()))
            message = (
                "Error validating access token: Session has expired on Thursday, "
                f"06-Oct-22 00:00:00 PDT. The current time is {now}."
            )
            return graph_error(190, message, subcode=463)
        if "invalid" in token:
            return graph_error(190)
        if write and "readonly" in token:
            return graph_error(200)
        return token

    def _page(self, node: str, token: str) -> str:
        with self.state.lock:
            pages: dict[str, str] = self._kv.setdefault("pages", {})
            if node == "me":
                return pages.get(token, PAGE_ID)
            pages.setdefault(token, node)  # a page token belongs to the page it posts to
        return node

    def _writer(self, req: Request, node: str) -> str | Reply:
        """The page a post request writes to, or the error Graph answers."""
        token = self._auth(req, write=True)
        if isinstance(token, Reply):
            return token
        if not node.isdigit() and node != "me":
            return graph_error(100, _UNSUPPORTED.format(method="post", node=node), subcode=33)
        return self._page(node, token)

    @property
    def _kv(self) -> dict[str, Any]:
        return self.state.kv.setdefault("facebook", {})

    # -- handlers -------------------------------------------------------------------------
    def create_feed(self, req: Request, node: str, version: str | None = None) -> Reply:
        page = self._writer(req, node)
        if isinstance(page, Reply):
            return page
        message, link = req.param("message") or "", req.param("link") or ""
        if not message.strip() and not link:
            return graph_error(100, "(#100) Missing message or attachment")
        if link and not link.startswith(("http://", "https://")):
            return graph_error(100, "(#100) The parameter link must be a valid URL")
        data = {"kind": "link" if link else "status", "link": link or None}
        return self._publish(req, page, message, data, version)

    def create_photo(self, req: Request, node: str, version: str | None = None) -> Reply:
        page = self._writer(req, node)
        if isinstance(page, Reply):
            return page
        upload: UploadedFile | None = req.files().get("source")
        url = req.param("url") or ""
        if upload is None and not url:
            return graph_error(324, "(#324) Requires upload file")
        if upload is None and "unreachable" in url:  # the sandbox never fetches URLs
            return graph_error(324)
        if upload is not None and not upload.data:
            return graph_error(324)
        photo: dict[str, Any] = (
            {"url": url}
            if upload is None
            else {
                "upload": upload.filename,
                "size": len(upload.data),
                "content_type": upload.content_type,
            }
        )
        photo_id = str(PHOTO_BASE + self.state.next_id("facebook"))
        caption = req.param("caption") or req.param("message") or ""
        data = {"kind": "photo", "photo": photo, "photo_id": photo_id}
        reply = self._publish(req, page, caption, data, version)
        if reply.status == 200:
            reply.body = {"id": photo_id, "post_id": reply.body["id"]}
        return reply

    def _publish(
        self, req: Request, page: str, message: str, data: dict[str, Any], version: str | None
    ) -> Reply:
        if len(message.encode("utf-16-le")) // 2 > MESSAGE_LIMIT:
            return graph_error(100, f"(#100) Param message must be at most {MESSAGE_LIMIT} long")
        published = (req.param("published") or "true").lower() not in ("false", "0")
        data.update(version=version, published=published)
        with self.state.lock:
            mine = [p for p in self.state.posts("facebook") if p.account == page]
            last = max(mine, key=lambda p: (p.created_at, p.id), default=None)
            if message and last is not None and last.text == message:
                return graph_error(506)
            number = 122_000_000_000_000_000 + self.state.next_id("facebook")
            post = self.state.record("facebook", page, message, data, post_id=f"{page}_{number}")
        return Reply(200, {"id": post.id}, trace_headers(version))

    def delete(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req, write=True)
        if isinstance(token, Reply):
            return token
        post = self.state.find("facebook", node)
        if post is None or post.deleted:
            return graph_error(100, _UNSUPPORTED.format(method="delete", node=node), subcode=33)
        self.state.delete("facebook", node)
        return Reply(200, {"success": True}, trace_headers(version))

    def published(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req)
        if isinstance(token, Reply):
            return token
        page = self._page(node, token) if node == "me" else node
        try:
            since, until, limit, start = window(req)
        except ValueError:
            return graph_error(100, "(#100) Invalid parameter: since, until, limit or after")
        posts = [
            p
            for p in self.state.posts("facebook")
            if p.account == page
            and p.data.get("published", True)
            and since <= p.created_at <= until
        ]
        posts.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        fields = fields_of(req, "created_time,message,id")
        base = f"https://graph.facebook.com/{version or API_VERSION}/{node}/published_posts"
        chunk, paging = paged(posts, start, limit, f"{base}?fields={','.join(fields)}")
        body = {"data": [self._post(p, fields) for p in chunk], "paging": paging}
        return Reply(200, body, trace_headers(version))

    def get_node(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req)
        if isinstance(token, Reply):
            return token
        post = self.state.find("facebook", node)
        if post is not None and not post.deleted:
            fields = fields_of(req, "created_time,message,id")
            return Reply(200, self._post(post, fields), trace_headers(version))
        if node != "me" and not node.isdigit():
            return graph_error(100, _UNSUPPORTED.format(method="get", node=node), subcode=33)
        page = self._page(node, token) if node == "me" else node
        full = {
            "id": page,
            "name": PAGE_NAME,
            "link": f"https://www.facebook.com/{page}",
            "category": "News & media website",
            "fan_count": 0,
        }
        fields = fields_of(req, "name,id")
        return Reply(200, {k: v for k, v in full.items() if k in fields}, trace_headers(version))

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _post(post: Post, fields: list[str]) -> dict[str, Any]:
        page, _, number = post.id.partition("_")
        full: dict[str, Any] = {
            "id": post.id,
            "created_time": graph_time(post.created_at),
            "message": post.text or None,
            "permalink_url": f"https://www.facebook.com/{page}/posts/{number}",
            "is_published": post.data.get("published", True),
            "status_type": "added_photos" if post.data.get("kind") == "photo" else "shared_story",
        }
        if post.data.get("link"):
            full["link"] = post.data["link"]
            full["attachments"] = {"data": [_attachment(str(post.data["link"]))]}
        return {k: v for k, v in full.items() if k in fields and v is not None}

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        if kind == "not_found":
            return graph_error(
                100,
                _UNSUPPORTED.format(method="get", node="0"),
                status=status,
                subcode=33,
                type="GraphMethodException",
            )
        code = _KINDS.get(kind, 1)
        if kind == "forbidden" and status != 403:
            code = 368  # blocked for policy reasons; 403 is the missing-permission (#200)
        elif kind == "server" and status in _SERVER_CODES:
            code = _SERVER_CODES[status]
        reply = graph_error(code, status=status)
        if code in RATE_CODES:  # no regain estimate: app-level throttles don't give one
            reply.headers.update(usage_headers(PAGE_ID, 100, 0))
        return reply

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        minutes = regain_minutes(reset_at - self.state.now())
        reply = graph_error(32)
        reply.headers.update(usage_headers(PAGE_ID, 100, minutes))
        return reply

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return route_usage(PAGE_ID, limit, remaining, reset_at - self.state.now())


def _attachment(link: str) -> dict[str, Any]:
    """A link post's attachment as Graph shows it: `url` and `target.url` behind Facebook's
    link shim (`l.facebook.com/l.php?u=…`), the original in `unshimmed_url`."""
    from urllib.parse import quote

    shim = f"https://l.facebook.com/l.php?u={quote(link, safe='')}&h=AT0sandbox"
    return {"type": "share", "url": shim, "unshimmed_url": link, "target": {"url": shim}}
