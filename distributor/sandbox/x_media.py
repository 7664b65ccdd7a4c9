"""X emulator: media upload, v1.1 (`upload.twitter.com/1.1/media/upload.json`) and v2 (`/2/media`).

v1.1 as tweepy's `API` speaks it: simple multipart `media` (or base64 `media_data`), chunked
INIT (202) / APPEND (204, empty) / FINALIZE (201) / STATUS, alt text through
`POST /1.1/media/metadata/create.json` (200, empty). Upload errors have the upload host's own shape
`{"request": "/1.1/media/upload.json", "error": "..."}`, e.g. "Segments do not add up to provided
total file size.". v2: `POST /2/media/upload` (simple, or `command=` style), `initialize`,
`{id}/append`, `{id}/finalize`, STATUS, and `POST /2/media/metadata`; answers wrapped in `data`.
The media type is sniffed from the bytes (JPEG, PNG, GIF, WebP, MP4); images over 5 MB are refused.
Media ids expire after 24 hours and can be attached only by the account that uploaded them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from distributor.sandbox.emulator import Reply, Request, Route

V1_UPLOAD = "/1.1/media/upload.json"
EXPIRES = 86400
MAX_IMAGE = 5 * 1024 * 1024
MAX_ALT = 1000
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class MediaError(Exception):
    """A refused media request: status and X's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sniff(data: bytes, declared: str = "") -> str:
    """The media type of `data` by its magic bytes; `declared` when unknown."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return declared if declared.startswith(("image/", "video/")) else ""


class XMedia:
    """Media state (in `state.kv["x"]["media"]`) and the upload routes of both API versions."""

    def __init__(self, state: Any, user: Callable[..., Any]) -> None:
        self.state = state
        self.user = user

    def routes(self) -> list[Route]:
        v2 = r"/2/media/upload"
        return [
            Route("POST", r"/1\.1/media/upload\.json", self.upload_v1, "media"),
            Route("GET", r"/1\.1/media/upload\.json", self.status_v1, "media"),
            Route("POST", r"/1\.1/media/metadata/create\.json", self.metadata_v1, "metadata"),
            Route("POST", v2, self.upload_v2, "media"),
            Route("GET", v2, self.status_v2, "media"),
            Route("POST", v2 + r"/initialize", self.initialize_v2, "media"),
            Route("POST", v2 + r"/(?P<media_id>\d+)/append", self.append_v2, "media"),
            Route("POST", v2 + r"/(?P<media_id>\d+)/finalize", self.finalize_v2, "media"),
            Route("POST", r"/2/media/metadata", self.metadata_v2, "metadata"),
        ]

    @property
    def store(self) -> dict[str, dict[str, Any]]:
        media: dict[str, dict[str, Any]] = self.state.kv["x"].setdefault("media", {})
        return media

    # -- what tweets need -----------------------------------------------------------------
    def usable(self, media_id: str, user_id: str) -> bool:
        item = self.store.get(media_id)
        return (
            item is not None
            and item["state"] == "succeeded"
            and user_id in (item["account"], *item["owners"])
            and self.state.now() < item["created"] + EXPIRES
        )

    def take(self, media_id: str) -> dict[str, Any]:
        """What a tweet records about an attached media item."""
        item = self.store[media_id]
        keys = ("media_id", "media_type", "category", "size", "alt", "api", "chunked", "segments")
        return {k: item[k] for k in keys}

    # -- v1.1 -----------------------------------------------------------------------------
    def upload_v1(self, req: Request) -> Reply:
        return self._v1(req, lambda user: self._command(req, user, "v1.1"))

    def status_v1(self, req: Request) -> Reply:
        return self._v1(req, lambda user: (200, self._status(req.param("media_id"), user)))

    def metadata_v1(self, req: Request) -> Reply:
        def run(user: Any) -> tuple[int, Any]:
            body = req.json()
            body = body if isinstance(body, dict) else {}
            self._alt(str(body.get("media_id") or ""), user, body.get("alt_text"))
            return 200, None

        return self._v1(req, run)

    def _v1(self, req: Request, run: Callable[[Any], tuple[int, Any]]) -> Reply:
        user = self.user(req, write=True)
        if isinstance(user, Reply):
            if user.status == 401:  # v1.1's own shape
                return Reply(
                    401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]}
                )
            return user
        try:
            status, item = run(user)
        except MediaError as exc:
            return Reply(exc.status, {"request": V1_UPLOAD, "error": exc.message})
        return Reply(status, None if item is None else self._v1_json(item))

    @staticmethod
    def _v1_json(item: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "media_id": int(item["media_id"]),
            "media_id_string": item["media_id"],
            "media_key": f"3_{item['media_id']}",
            "size": item["size"],
            "expires_after_secs": EXPIRES,
        }
        if item["media_type"].startswith("image/"):
            body["image"] = {"image_type": item["media_type"]}
        if item.get("processing"):
            body["processing_info"] = item["processing"]
        return body

    # -- v2 -------------------------------------------------------------------------------
    def upload_v2(self, req: Request) -> Reply:
        return self._v2(req, lambda user: self._command(req, user, "v2"))

    def status_v2(self, req: Request) -> Reply:
        return self._v2(req, lambda user: (200, self._status(req.param("media_id"), user)))

    def initialize_v2(self, req: Request) -> Reply:
        def run(user: Any) -> tuple[int, Any]:
            body = req.json()
            body = body if isinstance(body, dict) else {}
            total, mtype = body.get("total_bytes"), str(body.get("media_type") or "")
            category = str(body.get("media_category") or "")
            return 200, self._init(user, str(total or ""), mtype, category, "v2")

        return self._v2(req, run)

    def append_v2(self, req: Request, media_id: str) -> Reply:
        return self._v2(req, lambda user: (200, self._append(req, media_id, user)))

    def finalize_v2(self, req: Request, media_id: str) -> Reply:
        return self._v2(req, lambda user: (200, self._finalize(media_id, user)))

    def metadata_v2(self, req: Request) -> Reply:
        def run(user: Any) -> tuple[int, Any]:
            body = req.json()
            body = body if isinstance(body, dict) else {}
            media_id = str(body.get("id") or "")
            alt = (body.get("metadata") or {}).get("alt_text")
            self._alt(media_id, user, alt)
            return 200, {"id": media_id, "associated_metadata": {"alt_text": alt}}

        return self._v2(req, run)

    def _v2(self, req: Request, run: Callable[[Any], tuple[int, Any]]) -> Reply:
        from distributor.sandbox.x import invalid_request, problem

        user = self.user(req, write=True)
        if isinstance(user, Reply):
            return user
        try:
            status, item = run(user)
        except MediaError as exc:
            if exc.status == 400:
                return invalid_request(exc.message)
            return problem(exc.status, exc.message)
        if item is None:
            return Reply(status, {"data": {}})
        if "media_id" not in item:  # metadata answers are not media objects
            return Reply(status, {"data": item})
        data = self._v1_json(item)
        del data["media_id"], data["media_id_string"]
        return Reply(status, {"data": {"id": item["media_id"], **data}})

    # -- the protocol, shared by both versions ---------------------------------------------
    def _command(self, req: Request, user: Any, api: str) -> tuple[int, Any]:
        command = (req.param("command") or "").upper()
        if command == "INIT":
            total, mtype = req.param("total_bytes") or "", req.param("media_type") or ""
            item = self._init(user, total, mtype, req.param("media_category") or "", api)
            owners = [o for o in (req.param("additional_owners") or "").split(",") if o]
            item["owners"] = owners
            return 202, item
        if command == "APPEND":
            self._append(req, req.param("media_id") or "", user)
            return 204, None  # the real APPEND answers with an empty body
        if command == "FINALIZE":
            return 201, self._finalize(req.param("media_id") or "", user)
        if command == "STATUS":
            return 200, self._status(req.param("media_id"), user)
        if command:
            raise MediaError(400, f"Invalid command: {command}.")
        data = self._payload(req)
        mtype = sniff(data, self._declared(req))
        item = self._init(user, str(len(data)), mtype, req.param("media_category") or "", api)
        item.update(chunked=False, segments=1, state="succeeded")
        return 200, item

    def _init(self, user: Any, total: str, mtype: str, category: str, api: str) -> dict[str, Any]:
        from distributor.sandbox.x import snowflake

        if not total.isdigit() or int(total) <= 0:
            raise MediaError(400, "total_bytes is required and must be a positive number.")
        if not mtype.startswith(("image/", "video/")):
            raise MediaError(400, "media type unrecognized.")
        image = mtype.startswith("image/") and mtype != "image/gif"
        if image and int(total) > MAX_IMAGE:
            raise MediaError(400, f"File size exceeds {MAX_IMAGE} bytes.")
        with self.state.lock:
            media_id = snowflake(self.state.now(), self.state.next_id("x-media"))
            item: dict[str, Any] = {
                "media_id": media_id,
                "account": user.id,
                "owners": [],
                "media_type": mtype,
                "category": category or None,
                "total": int(total),
                "size": int(total),
                "parts": {},
                "state": "pending",
                "alt": None,
                "api": api,
                "chunked": True,
                "segments": 0,
                "created": self.state.now(),
            }
            self.store[media_id] = item
        return item

    def _append(self, req: Request, media_id: str, user: Any) -> dict[str, Any]:
        item = self._own(media_id, user)
        index = req.param("segment_index") or ""
        if not index.isdigit() or int(index) > 999:
            raise MediaError(400, "Segment index must be between 0 and 999.")
        if item["state"] != "pending":
            raise MediaError(400, "Media id is already finalized.")
        with self.state.lock:
            item["parts"][int(index)] = len(self._payload(req))
        return item

    def _finalize(self, media_id: str, user: Any) -> dict[str, Any]:
        item = self._own(media_id, user)
        if item["state"] != "pending":
            return item  # FINALIZE again answers the same media object
        received = sum(item["parts"].values())
        if received != item["total"]:
            raise MediaError(400, "Segments do not add up to provided total file size.")
        item["segments"] = len(item["parts"])
        if item["media_type"].startswith("video/") or item["category"] == "tweet_gif":
            item["processing"] = {"state": "pending", "check_after_secs": 1}
            item["state"] = "in_progress"
        else:
            item["state"] = "succeeded"
        return item

    def _status(self, media_id: str | None, user: Any) -> dict[str, Any]:
        item = self._own(media_id or "", user)
        if item["state"] == "in_progress":  # one STATUS poll later it is done
            item["state"] = "succeeded"
        item["processing"] = {"state": item["state"], "progress_percent": 100}
        return item

    def _alt(self, media_id: str, user: Any, alt: Any) -> None:
        item = self._own(media_id, user)
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(text, str):
            raise MediaError(400, "alt_text.text is required.")
        if len(text) > MAX_ALT:
            raise MediaError(400, f"Alt text must be at most {MAX_ALT} characters.")
        item["alt"] = text

    def _own(self, media_id: str, user: Any) -> dict[str, Any]:
        item = self.store.get(media_id)
        if item is None or user.id not in (item["account"], *item["owners"]):
            raise MediaError(400, "Invalid media_id.")
        return item

    @staticmethod
    def _payload(req: Request) -> bytes:
        upload = req.files().get("media")
        if upload is not None:
            return upload.data
        encoded = req.form().get("media_data")
        if encoded:
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise MediaError(400, "media_data is not valid base64.") from None
        raise MediaError(400, "media parameter is missing.")

    @staticmethod
    def _declared(req: Request) -> str:
        upload = req.files().get("media")
        return (req.param("media_type") or (upload.content_type if upload else "")).lower()
