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
`estimated_time_to_regain_access` in minutes; a fault reset under a minute as a fraction).
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import time
import zlib
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

PAGE_ID = "104857600000001"  # the page `/me` is for a token that has not posted yet
PAGE_NAME = "Distributor Sandbox"
API_VERSION = "v21.0"
MESSAGE_LIMIT = 63206
PHOTO_BASE = 900_000_000_000_000
RATE_CODES = frozenset({4, 17, 32, 613, 80001})
_UNSUPPORTED = (
    "Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded due "
    "to missing permissions, or does not support this operation. Please read the Graph API "
    "documentation at https://developers.facebook.com/docs/graph-api"
)
# code -> (HTTP status, type, message, subcode): texts as Graph sends them
_CODES: dict[int, tuple[int, str, str, int | None]] = {
    1: (500, "OAuthException", "An unknown error has occurred.", None),
    2: (
        503,
        "OAuthException",
        "An unexpected error has occurred. Please retry your request later.",
        None,
    ),
    4: (400, "OAuthException", "(#4) Application request limit reached", None),
    32: (400, "OAuthException", "(#32) Page request limit reached", None),
    100: (400, "OAuthException", "(#100) Invalid parameter", None),
    104: (400, "OAuthException", "An access token is required to request this resource.", None),
    190: (400, "OAuthException", "Invalid OAuth access token - Cannot parse access token", None),
    200: (
        403,
        "OAuthException",
        "(#200) If posting to a page, requires both pages_read_engagement and "
        "pages_manage_posts as an admin with sufficient administrative permission",
        None,
    ),
    324: (400, "OAuthException", "(#324) Missing or invalid image file", None),
    368: (
        400,
        "OAuthException",
        "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
        1390008,
    ),
    506: (400, "OAuthException", "(#506) Duplicate status message", None),
}
_KINDS = {"auth": 190, "forbidden": 200, "invalid": 100, "duplicate": 506, "server": 1}
_SERVER_CODES = {429: 4, 503: 2}  # Graph never sends 429: a "429" fault is the app throttle (#4)


def graph_error(
    code: int, message: str = "", *, status: int = 0, subcode: int | None = None, **extra: Any
) -> Reply:
    """A Graph error object with the status, type and headers Graph sends for `code`."""
    default_status, kind, default_message, default_sub = _CODES.get(
        code, (400, "OAuthException", f"(#{code}) Error", None)
    )
    message = message or default_message
    error: dict[str, Any] = {"message": message, "type": extra.pop("type", kind), "code": code}
    if subcode or default_sub:
        error["error_subcode"] = subcode or default_sub
    if code in (1, 2, *RATE_CODES):
        error["is_transient"] = True
    error.update(extra)
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    reason = "invalid_token" if code == 190 else "invalid_request"
    headers = {
        "WWW-Authenticate": f'OAuth "Facebook Platform" "{reason}" "{message}"',
        "facebook-api-version": API_VERSION,
        "x-fb-trace-id": error["fbtrace_id"][:11],
    }
    return Reply(status or default_status, {"error": error}, headers)


def graph_time(epoch: float) -> str:
    """Graph's timestamp format: `2019-08-12T03:45:11+0000`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


def usage_headers(page: str, percent: int, regain_minutes: float) -> dict[str, str]:
    """The JSON-valued usage headers of a page token (Business Use Case limits)."""
    flat = {"call_count": percent, "total_time": max(1, percent // 4), "total_cputime": 1}
    buc = {
        page: [
            {"type": "pages", **flat, "estimated_time_to_regain_access": regain_minutes},
        ]
    }
    return {
        "X-App-Usage": json.dumps(flat),
        "X-Page-Usage": json.dumps(flat),
        "X-Business-Use-Case-Usage": json.dumps(buc),
    }


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
        return Reply(200, {"id": post.id}, self._headers(version))

    def delete(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req, write=True)
        if isinstance(token, Reply):
            return token
        post = self.state.find("facebook", node)
        if post is None or post.deleted:
            return graph_error(100, _UNSUPPORTED.format(method="delete", node=node), subcode=33)
        self.state.delete("facebook", node)
        return Reply(200, {"success": True}, self._headers(version))

    def published(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req)
        if isinstance(token, Reply):
            return token
        page = self._page(node, token) if node == "me" else node
        try:
            since = _epoch(req.param("since"), 0.0)
            until = _epoch(req.param("until"), float("inf"))
            limit = min(100, max(1, int(req.param("limit") or 25)))
            start = int(base64.b64decode(req.param("after") or "MA==").decode() or 0)
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
        fields = _fields(req, "created_time,message,id")
        chunk = posts[start : start + limit]
        paging: dict[str, Any] = {}
        if chunk:
            cursor = base64.b64encode(str(start + len(chunk)).encode()).decode()
            before = base64.b64encode(str(start).encode()).decode()
            paging["cursors"] = {"before": before, "after": cursor}
            if start + len(chunk) < len(posts):
                paging["next"] = (
                    f"https://graph.facebook.com/{version or API_VERSION}/{node}/published_posts"
                    f"?fields={','.join(fields)}&limit={limit}&after={cursor}"
                )
        body = {"data": [self._post(p, fields) for p in chunk], "paging": paging}
        return Reply(200, body, self._headers(version))

    def get_node(self, req: Request, node: str, version: str | None = None) -> Reply:
        token = self._auth(req)
        if isinstance(token, Reply):
            return token
        post = self.state.find("facebook", node)
        if post is not None and not post.deleted:
            fields = _fields(req, "created_time,message,id")
            return Reply(200, self._post(post, fields), self._headers(version))
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
        fields = _fields(req, "name,id")
        return Reply(200, {k: v for k, v in full.items() if k in fields}, self._headers(version))

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _headers(version: str | None) -> dict[str, str]:
        trace = format(zlib.crc32(secrets.token_bytes(8)), "08x")
        return {"facebook-api-version": version or API_VERSION, "x-fb-trace-id": trace}

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
        minutes = self._regain(reset_at)
        reply = graph_error(32)
        reply.headers.update(usage_headers(PAGE_ID, 100, minutes))
        return reply

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        used = limit - max(0, remaining)
        percent = min(100, round(100 * used / limit)) if limit else 0
        minutes = self._regain(reset_at) if remaining <= 0 else 0
        return usage_headers(PAGE_ID, percent, minutes)

    def _regain(self, reset_at: float) -> float:
        """`estimated_time_to_regain_access`: whole minutes, as Graph sends it, from a minute up;
        a sandbox reset shorter than that as a fraction, so fast tests don't wait a minute."""
        seconds = max(1.0, reset_at - self.state.now())
        return math.ceil(seconds / 60) if seconds >= 60 else round(seconds / 60, 4)


def _fields(req: Request, default: str) -> list[str]:
    """The top-level field names (`attachments{url,target}` names `attachments`)."""
    raw = re.sub(r"\{[^{}]*\}", "", re.sub(r"\{[^{}]*\}", "", req.param("fields") or default))
    return [f.strip() for f in raw.split(",") if f.strip()] + ["id"]


def _attachment(link: str) -> dict[str, Any]:
    """A link post's attachment as Graph shows it: `url` and `target.url` behind Facebook's
    link shim (`l.facebook.com/l.php?u=…`), the original in `unshimmed_url`."""
    from urllib.parse import quote

    shim = f"https://l.facebook.com/l.php?u={quote(link, safe='')}&h=AT0sandbox"
    return {"type": "share", "url": shim, "unshimmed_url": link, "target": {"url": shim}}


def _epoch(value: str | None, default: float) -> float:
    """A `since`/`until` value: a unix timestamp or an ISO-8601 date/time."""
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        from datetime import UTC, datetime

        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
