"""LinkedIn Posts API emulator (`/linkedin/rest/posts`, versioned REST headers).

`POST /rest/posts` needs `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` (active = the last
12 months; others get 426 NONEXISTENT_VERSION) and `X-Restli-Protocol-Version: 2.0.0`; it answers
201 with an empty body and the URN in `x-restli-id`. The commentary is read as "little text
format": backslash escapes are undone and, like the real service, an unescaped reserved
character silently truncates the stored text (the post's data says `truncated`). The same
commentary twice from one author is 422 DUPLICATE_POST. `GET /rest/posts?q=author&author=` lists
an author's posts, `DELETE /rest/posts/{urn}` answers 204, and `GET /rest/organizations/{id}` /
`GET /v2/userinfo` serve `distributor check`.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page

_URN = re.compile(r"urn:li:(organization|person):[A-Za-z0-9_-]+")
_RESERVED = set("\\|{}@[]()<>#*_~")
COMMENTARY_LIMIT = 3000
_ERRORS = {
    "auth": (401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    "forbidden": (403, 100, "ACCESS_DENIED", "Not enough permissions to access: POST /rest/posts"),
    "not_found": (404, None, "NOT_FOUND", "Not Found"),
    "server": (500, None, "INTERNAL_SERVER_ERROR", "Internal Server Error"),
}


def error(status: int, code: str, message: str, service: int | None = None) -> Reply:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    return Reply(status, body)


def input_error(message: str, code: str, field: str, status: int = 422) -> Reply:
    return Reply(
        status,
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": message,
            "errorDetails": {
                "inputErrors": [
                    {
                        "description": message,
                        "input": {"inputPath": {"fieldPath": field}},
                        "code": code,
                    }
                ]
            },
            "status": status,
        },
    )


def read_little_text(commentary: str) -> tuple[str, bool]:
    """Undo backslash escapes; stop at an unescaped reserved character (LinkedIn truncates)."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        ch = commentary[i]
        if ch == "\\" and i + 1 < len(commentary) and commentary[i + 1] in _RESERVED:
            out.append(commentary[i + 1])
            i += 2
            continue
        hashtag = ch == "#" and i + 1 < len(commentary) and commentary[i + 1].isalnum()
        if ch in _RESERVED and not hashtag:
            return "".join(out), True
        out.append(ch)
        i += 1
    return "".join(out), False


def version_problem(version: str | None, now: float) -> Reply | None:
    if not version:
        return error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a "
            "version by adding the LinkedIn-Version header.",
        )
    match = re.fullmatch(r"(\d{4})(\d{2})(?:\.\d{2})?", version)
    today = time.gmtime(now)
    current = today.tm_year * 12 + today.tm_mon - 1
    asked = int(match.group(1)) * 12 + int(match.group(2)) - 1 if match else -1
    if not match or not 1 <= int(match.group(2)) <= 12 or not current - 12 <= asked <= current:
        return error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
    return None


class LinkedInEmulator(Emulator):
    """Posts, their listing and deletion, and the identity endpoints."""

    platform = "linkedin"

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/rest/posts", self.create, "create"),
            Route("GET", r"/rest/posts", self.list_posts, "lookup"),
            Route("DELETE", r"/rest/posts/(?P<urn>[^/]+)", self.delete, "delete"),
            Route("GET", r"/rest/organizations/(?P<org>\d+)", self.organization, "verify"),
            Route("GET", r"/v2/userinfo", self.userinfo, "verify"),
        ]

    def _check(self, req: Request, versioned: bool = True) -> Reply | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self.error_reply(401, "auth")
        if not versioned:
            return None
        problem = version_problem(req.headers.get("linkedin-version"), self.state.now())
        if problem is None and req.headers.get("x-restli-protocol-version") != "2.0.0":
            return error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version 2.0.0 is required")
        return problem

    def create(self, req: Request) -> Reply:
        problem = self._check(req)
        if problem is not None:
            return problem
        body = req.json()
        if not isinstance(body, dict):
            return input_error("Request body must be an object", "INVALID_VALUE", "/")
        author, commentary = body.get("author"), body.get("commentary", "")
        if not isinstance(author, str) or not _URN.fullmatch(author):
            return input_error(
                "author must be a person or organization URN", "INVALID_URN_TYPE", "/author"
            )
        if not isinstance(commentary, str) or len(commentary) > COMMENTARY_LIMIT:
            return input_error(
                f"commentary exceeds {COMMENTARY_LIMIT} characters",
                "MAXIMUM_LENGTH_EXCEEDED",
                "/commentary",
                400,
            )
        for key in ("visibility", "distribution", "lifecycleState"):
            if key not in body:
                return input_error(f"Field /{key} is required", "MISSING_REQUIRED_FIELD", f"/{key}")
        for post in self.state.posts("linkedin"):
            if post.account == author and post.data.get("commentary") == commentary:
                return input_error(
                    f"Content is a duplicate of {post.data['urn']}", "DUPLICATE_POST", "/commentary"
                )
        text, truncated = read_little_text(commentary)
        data = {
            "commentary": commentary,
            "truncated": truncated,
            "content": body.get("content"),
            "visibility": body.get("visibility"),
            "version": req.headers.get("linkedin-version"),
        }
        post = self.state.record("linkedin", author, text, data)
        urn = f"urn:li:share:{post.id}"
        post.data["urn"] = urn
        return Reply(201, None, {"x-restli-id": urn, "x-linkedin-id": urn})

    def list_posts(self, req: Request) -> Reply:
        problem = self._check(req)
        if problem is not None:
            return problem
        if req.param("q") != "author" or not req.param("author"):
            return error(400, "ILLEGAL_ARGUMENT", "q=author and author are required")
        author = unquote(req.param("author") or "")
        count = int(req.param("count") or 10)
        start = int(req.param("start") or 0)
        mine = [p for p in self.state.posts("linkedin") if p.account == author]
        mine.sort(key=lambda p: p.created_at, reverse=True)
        elements = [
            {
                "id": p.data["urn"],
                "author": p.account,
                "commentary": p.data["commentary"],
                "content": p.data.get("content"),
                "createdAt": int(p.created_at * 1000),
                "publishedAt": int(p.created_at * 1000),
                "lifecycleState": "PUBLISHED",
                "visibility": p.data.get("visibility"),
            }
            for p in mine[start : start + count]
        ]
        return Reply(200, {"elements": elements, "paging": {"start": start, "count": count}})

    def delete(self, req: Request, urn: str) -> Reply:
        problem = self._check(req)
        if problem is not None:
            return problem
        post_id = unquote(urn).rsplit(":", 1)[-1]
        post = self.state.find("linkedin", post_id)
        if post is None or post.deleted:
            return self.error_reply(404, "not_found")
        self.state.delete("linkedin", post_id)
        return Reply(204, None)

    def organization(self, req: Request, org: str) -> Reply:
        problem = self._check(req)
        if problem is not None:
            return problem
        return Reply(
            200, {"id": int(org), "localizedName": "Sandbox News", "vanityName": "sandbox"}
        )

    def userinfo(self, req: Request) -> Reply:
        problem = self._check(req, versioned=False)
        if problem is not None:
            return problem
        return Reply(200, {"sub": "sandbox-member", "name": "Sandbox Member", "locale": "de_DE"})

    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        if kind == "duplicate":
            return input_error(
                "Content is a duplicate of urn:li:share:7141000000000000000",
                "DUPLICATE_POST",
                "/commentary",
                status,
            )
        if kind == "invalid":
            return input_error("Invalid value", "INVALID_VALUE", "/commentary", status)
        _, service, code, message = _ERRORS.get(kind, _ERRORS["server"])
        return error(status, code, message, service)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        message = (
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
        )
        return error(429, "TOO_MANY_REQUESTS", message, 101)
