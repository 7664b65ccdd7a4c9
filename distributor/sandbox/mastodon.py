"""Mastodon emulator: statuses (Idempotency-Key per account, 1 hour), media v2, lookup, instance.

Shapes follow recorded Mastodon 4.x answers (Mastodon.py cassettes): Status JSON, `{"error": ...}`
bodies, 422 "Validation failed: Text character limit of 500 exceeded" counted with
`distributor.limits.length("mastodon", ...)` against the instance limit (`kv["max_characters"]`,
default 500), `X-RateLimit-*` headers with an ISO-8601 microsecond reset on every answer of
every route (Mastodon's own limits per account: 300 statuses per 3 hours, 30 deletes and 30
media uploads per 30 minutes, 300 other calls per 5 minutes), a media id already attached to
a live status (or deleted with `delete_media`) refused with 422, a deleted status' media
free to attach again. tests/fidelity/test_cassette_fidelity.py replays the cassettes and
compares status codes, error keys, these headers and the media type.
Tokens: any non-empty Bearer token is a valid account, except ones containing `invalid` (401)
or `readonly` (403, outside the authorized scopes); one containing `suspended` belongs to an
account its instance suspended (`"suspended": true` in the Account).
"""

from __future__ import annotations

import html
import re
import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page

IDEMPOTENCY_SECONDS = 3600.0
HOST = "https://mastodon.sandbox"
_ERRORS = {
    "auth": (401, "The access token is invalid"),
    "forbidden": (403, "This action is outside the authorized scopes"),
    "invalid": (422, "Validation failed: Text can't be blank"),
    "duplicate": (422, "Validation failed: Text can't be blank"),
    "not_found": (404, "Record not found"),
}


def iso(epoch: float) -> str:
    """Mastodon's timestamp format (milliseconds, Z)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def linkify(text: str) -> str:
    """Text as Mastodon's formatter writes it: HTML-escaped, every URL an `<a href>` (with `&amp;`)
    whose visible text is split into spans: the scheme hidden, 30 characters shown, the rest
    hidden behind an ellipsis. Hashtags and mentions stay plain text here."""
    from distributor.limits import extract_urls

    out, pos = "", 0
    for found in extract_urls(text):
        url = found["url"]
        if not url.lower().startswith(("http://", "https://")):
            continue
        start, end = found["indices"]
        out += html.escape(text[pos:start]) + _anchor(url)
        pos = end
    return out + html.escape(text[pos:])


def _anchor(url: str) -> str:
    prefix = re.match(r"https?://(www\.)?", url, re.IGNORECASE)
    cut = prefix.end() if prefix else 0
    shown, rest = url[cut : cut + 30], url[cut + 30 :]
    if len(rest) == 1:  # Mastodon shows a one-character rest rather than an ellipsis
        shown, rest = shown + rest, ""
    e = html.escape
    return (
        f'<a href="{e(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{e(url[:cut])}</span>'
        f'<span class="{"ellipsis" if rest else ""}">{e(shown)}</span>'
        f'<span class="invisible">{e(rest)}</span></a>'
    )


def fail(status: int, message: str) -> Reply:
    return Reply(status, {"error": message})


class MastodonEmulator(Emulator):
    """The Mastodon REST endpoints `distributor` uses."""

    platform = "mastodon"
    # per account, as Mastodon's rack-attack rules set them (the recorded headers agree)
    default_limits: ClassVar[dict[str, tuple[int, float]]] = {
        "create": (300, 3 * 3600.0),
        "delete": (30, 1800.0),
        "media": (30, 1800.0),
        "verify": (300, 300.0),
        "lookup": (300, 300.0),
        "instance": (300, 300.0),
    }

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/api/v1/statuses", self.create, "create"),
            Route("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)", self.delete, "delete"),
            Route("POST", r"/api/v2/media", self.media, "media"),
            Route("GET", r"/api/v1/accounts/verify_credentials", self.verify, "verify"),
            Route("GET", r"/api/v1/accounts/(?P<account>\d+)/statuses", self.lookup, "lookup"),
            Route("GET", r"/api/v2/instance/?", self.instance, "instance"),
        ]

    # -- auth -----------------------------------------------------------------------------
    def _account(self, req: Request) -> dict[str, Any] | Reply:
        auth = req.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token or "invalid" in token:
            return fail(401, "The access token is invalid")
        if "readonly" in token:
            return fail(403, "This action is outside the authorized scopes")
        account_id = str(110000000000000000 + zlib.crc32(token.encode()) % 10**9)
        username = "distributor_sandbox"
        suspended = {"suspended": True} if "suspended" in token else {}
        return suspended | {
            "id": account_id,
            "username": username,
            "acct": username,
            "display_name": "Distributor Sandbox",
            "bot": True,
            "url": f"{HOST}/@{username}",
            "uri": f"{HOST}/users/{username}",
        }

    # -- handlers -------------------------------------------------------------------------
    def create(self, req: Request) -> Reply:
        account = self._account(req)
        if isinstance(account, Reply):
            return account
        params = self._params(req)
        key = req.headers.get("idempotency-key")
        now = self.state.now()
        with self.state.lock:
            keys = self.state.kv.setdefault("mastodon", {}).setdefault("idempotency", {})
            if key:
                seen = keys.get((account["id"], key))
                if seen is not None and now - seen[1] < IDEMPOTENCY_SECONDS:
                    post = self.state.find("mastodon", seen[0])
                    if post is not None:
                        return Reply(200, self._status(post, account))
            text = str(params.get("status") or "")
            media_ids = [str(m) for m in params.get("media_ids") or []]
            problem = self._validate(text, media_ids)
            if problem:
                return fail(422, problem)
            data = {
                "visibility": params.get("visibility") or "public",
                "language": params.get("language"),
                "media_ids": media_ids,
                "media": [self.state.kv["mastodon"].get("media", {})[m] for m in media_ids],
                "idempotency_key": key,
            }
            post = self.state.record("mastodon", account["id"], text, data)
            attached = self.state.kv["mastodon"].setdefault("attached", {})
            attached.update(dict.fromkeys(media_ids, post.id))
            if key:
                keys[(account["id"], key)] = (post.id, now)
        return Reply(200, self._status(post, account))

    def delete(self, req: Request, status_id: str) -> Reply:
        account = self._account(req)
        if isinstance(account, Reply):
            return account
        post = self.state.find("mastodon", status_id)
        if post is None or post.deleted or post.account != account["id"]:
            return fail(404, "Record not found")
        self.state.delete("mastodon", status_id)
        self._release_media(post, req)
        # Mastodon answers a delete with the status' source `text` instead of its `content`
        status = {k: v for k, v in self._status(post, account).items() if k != "content"}
        return Reply(200, {**status, "text": post.text})

    def _release_media(self, post: Any, req: Request) -> None:
        """A deleted status' media may be attached again (delete-and-redraft), unless the
        caller asked `delete_media`, which deletes them."""
        flag = (req.query.get("delete_media") or [req.form().get("delete_media") or ""])[0]
        kv = self.state.kv.setdefault("mastodon", {})
        with self.state.lock:
            for media_id in post.data.get("media_ids") or []:
                kv.setdefault("attached", {}).pop(media_id, None)
                if flag.lower() in ("1", "true"):
                    kv.setdefault("media", {}).pop(media_id, None)

    def media(self, req: Request) -> Reply:
        account = self._account(req)
        if isinstance(account, Reply):
            return account
        upload = req.files().get("file")
        if upload is None or not upload.data:
            return fail(422, "Validation failed: File can't be blank")
        if not upload.content_type.startswith("image/"):
            return fail(422, "Validation failed: File content type is invalid, File is invalid")
        with self.state.lock:
            store = self.state.kv.setdefault("mastodon", {}).setdefault("media", {})
            media_id = str(117000000000000000 + len(store) + 1)
            files = f"{HOST}/system/media_attachments/files/{media_id}"
            attachment: dict[str, Any] = {
                "id": media_id,
                "type": "image",
                "url": f"{files}/original/{upload.filename}",
                "preview_url": f"{files}/small/{upload.filename}",
                "remote_url": None,
                "description": req.form().get("description") or None,
                "meta": {},
                "blurhash": "UGC~-#M{0JfkNFofR%M{IURj%Mt7E0oM%MR*",
                "size": len(upload.data),
                "content_type": upload.content_type,
            }
            store[media_id] = attachment
        return Reply(200, attachment)

    def verify(self, req: Request) -> Reply:
        account = self._account(req)
        return account if isinstance(account, Reply) else Reply(200, account)

    def lookup(self, req: Request, account: str) -> Reply:
        """Newest first, `limit` (at most 40) older than `max_id`; a Link header names the next
        (older, only after a full page) and the previous page, as Mastodon's does."""
        me = self._account(req)
        if isinstance(me, Reply):
            return me
        posts = [p for p in self.state.posts("mastodon") if p.account == account]
        posts.sort(key=lambda p: (p.created_at, int(p.id)), reverse=True)
        max_id = (req.query.get("max_id") or [""])[0]
        if max_id.isdigit():
            posts = [p for p in posts if int(p.id) < int(max_id)]
        limit = min(40, int((req.query.get("limit") or ["20"])[0]))
        page = posts[:limit]
        path = f"{HOST}/api/v1/accounts/{account}/statuses?limit={limit}"
        links = [f'<{path}&max_id={page[-1].id}>; rel="next"'] if len(page) == limit else []
        if page:
            links.append(f'<{path}&min_id={page[0].id}>; rel="prev"')
        headers = {"Link": ", ".join(links)} if links else {}
        return Reply(200, [self._status(p, me) for p in page], headers)

    def instance(self, req: Request) -> Reply:
        limit = self.state.kv.setdefault("mastodon", {}).get("max_characters", 500)
        statuses = {"max_characters": limit, "max_media_attachments": 4}
        statuses["characters_reserved_per_url"] = 23
        return Reply(200, {"domain": "mastodon.sandbox", "configuration": {"statuses": statuses}})

    # -- helpers --------------------------------------------------------------------------
    def _params(self, req: Request) -> dict[str, Any]:
        if req.content_type == "application/json":
            data = req.json()
            return data if isinstance(data, dict) else {}
        form = req.form()
        from urllib.parse import parse_qs

        media = parse_qs(req.body.decode("utf-8", "replace")).get("media_ids[]", [])
        return {**form, "media_ids": media}

    def _validate(self, text: str, media_ids: list[str]) -> str | None:
        from distributor.limits import length

        known = self.state.kv["mastodon"].get("media", {})
        attached = self.state.kv["mastodon"].get("attached", {})
        missing = [m for m in media_ids if m not in known or m in attached]
        if missing:
            return f"Media {', '.join(missing)} not found or already attached to another post"
        if not text.strip() and not media_ids:
            return "Validation failed: Text can't be blank"
        limit = self.state.kv["mastodon"].get("max_characters", 500)
        if length("mastodon", text) > limit:
            return f"Validation failed: Text character limit of {limit} exceeded"
        return None

    def _status(self, post: Any, account: dict[str, Any]) -> dict[str, Any]:
        paragraphs = "".join(f"<p>{linkify(p)}</p>" for p in post.text.split("\n\n"))
        return {
            "id": post.id,
            "created_at": iso(post.created_at),
            "visibility": post.data.get("visibility", "public"),
            "language": post.data.get("language"),
            "uri": f"{account['uri']}/statuses/{post.id}",
            "url": f"{account['url']}/{post.id}",
            "content": paragraphs.replace("\n", "<br />"),
            "spoiler_text": "",
            "sensitive": False,
            "media_attachments": post.data.get("media", []),
            "account": account,
            "application": {"name": "distributor", "website": None},
            "card": None,
        }

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        code, message = _ERRORS.get(kind, (status, ""))
        if code != status or not message:
            by_status = {code: text for code, text in _ERRORS.values()}
            by_status[429] = "Too many requests"
            fallback = "We're sorry, but something went wrong on our end."
            message = by_status.get(status, fallback if status >= 500 else "Bad Request")
        return fail(status, message)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        return Reply(429, {"error": "Too many requests"}, self.rate_headers(limit, 0, reset_at))

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        reset = datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, remaining)),
            "X-RateLimit-Reset": reset,
        }
