"""Pinterest API v5 emulator (`/pinterest/v5/...`): Pins on boards, listing, delete, identity.

`POST /v5/pins` needs `Authorization: Bearer`, a numeric `board_id` and an image
(`media_source` `{"source_type": "image_url", "url": "https://..."}`; Pinterest has no text
Pins); `title` at most 100, `description` and `alt_text` at most 500 (UTF-16 units), `link` at
most 2048 and http(s). It answers 201 with the Pin object. There is no duplicate check and no
idempotency key, as on the real API. `GET /v5/boards/{id}/pins` lists a board's Pins newest
first in pages of `page_size` (1-250, default 25) with an opaque `bookmark` (null on the last
page); `DELETE /v5/pins/{id}` answers 204; `GET /v5/user_account` and `GET /v5/boards/{id}`
serve `distributor check`. Errors are `{"code": N, "message": "..."}`; limited routes send
`x-ratelimit-limit/-remaining/-reset` (seconds), header names the contract marks unverified.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from distributor.sandbox.emulator import Emulator, Post, Reply, Request, Route, html_error_page

TITLE_LIMIT, TEXT_LIMIT, LINK_LIMIT = 100, 500, 2048
PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT = 250, 25
PIN_ID_BASE = 813_744_226_420_000_000  # Pin ids are 18-digit numbers
USERNAME = "sandboxnews"
_BOARD = re.compile(r"\d{1,20}")
_KINDS = {
    "auth": (2, "Authentication failed."),
    "forbidden": (3, "Not authorized to access board or section."),
    "invalid": (1, "Invalid request."),
    "duplicate": (1, "Invalid request."),  # Pinterest has no duplicate check
    "not_found": (40, "Board not found."),
    "server": (5, "Internal error. Please try again later."),
}


def error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message})


def units(text: str) -> int:
    """UTF-16 code units (Pinterest's limits count like JavaScript's `length`)."""
    return len(text.encode("utf-16-le")) // 2


def _bookmark(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{offset}".encode()).decode()


def _offset(bookmark: str) -> int:
    """The offset behind a bookmark; ValueError for one this emulator did not hand out."""
    text = base64.urlsafe_b64decode(bookmark.encode()).decode()
    prefix, _, number = text.partition(":")
    if prefix != "sandbox":
        raise ValueError(bookmark)
    return int(number)


def problem(body: Any) -> str | None:
    """Why Pinterest would refuse this Pin body (None: it would create the Pin)."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object."
    media = body.get("media_source")
    if not isinstance(media, dict) or media.get("source_type") != "image_url":
        return "media_source with source_type image_url is required."
    if not re.match(r"https?://", str(media.get("url") or "")):
        return "media_source.url must be an http(s) URL."
    for name, limit in (("title", TITLE_LIMIT), ("description", TEXT_LIMIT), ("alt_text", 500)):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or units(value) > limit):
            return f"{name} must be a string of at most {limit} characters."
    link = body.get("link")
    if link is not None and (not isinstance(link, str) or len(link) > LINK_LIMIT):
        return f"link must be a string of at most {LINK_LIMIT} characters."
    if link and not re.match(r"https?://", link):
        return "link must be an http(s) URL."
    return None


class PinterestEmulator(Emulator):
    """Pins kept per board in the sandbox state."""

    platform = "pinterest"

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v5/pins", self.create, "create"),
            Route("GET", r"/v5/boards/(?P<board>[^/]+)/pins", self.list_pins, "lookup"),
            Route("DELETE", r"/v5/pins/(?P<pin>[^/]+)", self.delete, "delete"),
            Route("GET", r"/v5/user_account", self.user_account, "verify"),
            Route("GET", r"/v5/boards/(?P<board>[^/]+)", self.board, "verify"),
        ]

    def _refused(self, req: Request, board: str | None = None) -> Reply | None:
        """401 without a bearer token; 404 for a board id that cannot exist."""
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self.error_reply(401, "auth")
        if board is not None and not _BOARD.fullmatch(board):
            return self.error_reply(404, "not_found")
        return None

    def create(self, req: Request) -> Reply:
        body = req.json()
        board = body.get("board_id") if isinstance(body, dict) else None
        refused = self._refused(req, board if isinstance(board, str) and board else None)
        if refused is not None:
            return refused
        if not isinstance(board, str) or not board:
            return error(400, 1, "board_id is required.")
        reason = problem(body)
        if reason is not None:
            return error(400, 1, f"Invalid request: {reason}")
        data = {k: body.get(k) for k in ("title", "link", "alt_text", "media_source")}
        post_id = str(PIN_ID_BASE + self.state.next_id("pinterest"))
        post = self.state.record("pinterest", board, body.get("description") or "", data, post_id)
        return Reply(201, self._pin(post))

    def list_pins(self, req: Request, board: str) -> Reply:
        refused = self._refused(req, board)
        if refused is not None:
            return refused
        try:
            size = int(req.param("page_size") or PAGE_SIZE_DEFAULT)
            offset = _offset(req.param("bookmark") or "") if req.param("bookmark") else 0
        except ValueError:
            return error(400, 1, "Invalid parameters: page_size or bookmark.")
        if not 1 <= size <= PAGE_SIZE_MAX:
            return error(400, 1, f"page_size must be between 1 and {PAGE_SIZE_MAX}.")
        pins = [p for p in self.state.posts("pinterest") if p.account == board]
        pins.sort(key=lambda p: (p.created_at, int(p.id)), reverse=True)
        page = pins[offset : offset + size]
        more = offset + len(page) < len(pins)
        bookmark = _bookmark(offset + len(page)) if more else None
        return Reply(200, {"items": [self._pin(p) for p in page], "bookmark": bookmark})

    def delete(self, req: Request, pin: str) -> Reply:
        refused = self._refused(req)
        if refused is not None:
            return refused
        if not self.state.delete("pinterest", pin):
            return error(404, 50, "Pin not found.")
        return Reply(204, None)

    def user_account(self, req: Request) -> Reply:
        refused = self._refused(req)
        if refused is not None:
            return refused
        return Reply(200, {"account_type": "BUSINESS", "username": USERNAME})

    def board(self, req: Request, board: str) -> Reply:
        refused = self._refused(req, board)
        if refused is not None:
            return refused
        owner = {"username": USERNAME}
        return Reply(
            200, {"id": board, "name": "Sandbox News", "owner": owner, "privacy": "PUBLIC"}
        )

    def _pin(self, post: Post) -> dict[str, Any]:
        media = post.data.get("media_source") or {}
        return {
            "id": post.id,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(post.created_at)),
            "board_id": post.account,
            "board_owner": {"username": USERNAME},
            "title": post.data.get("title"),
            "description": post.text,
            "link": post.data.get("link"),
            "alt_text": post.data.get("alt_text"),
            "media": {
                "media_type": "image",
                "images": {"originals": {"url": media.get("url"), "width": 1200, "height": 800}},
            },
            "is_owner": True,
            "creative_type": "REGULAR",
        }

    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        code, message = _KINDS.get(kind, _KINDS["server"])
        return error(status, code, message)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        reply = error(429, 8, "You have exceeded your rate limit. Try again later.")
        reply.headers.update(self.rate_headers(limit, 0, reset_at))
        return reply

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(max(0, int(reset_at - self.state.now() + 0.999))),
        }
