"""Recorded real HTTP exchanges (VCR cassettes, YAML or JSON) and their replay against the sandbox.

A cassette's request is sent to the emulator (platform prefix instead of the real host; ids the
recording returned earlier replaced by the ones the emulator returned); `summary()` keeps what
clients read of an answer: status, the error body's top-level keys, rate-limit header names and
the media type. Requests to routes an emulator does not implement are left out (and counted).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

# Headers a client sends that must not be replayed verbatim (the transport sets them).
_TRANSPORT = {"host", "content-length", "connection", "accept-encoding", "authorization"}
RATE_HEADERS = re.compile(r"x-rate-?limit-(limit|remaining|reset)")
_IDS = re.compile(r"\d{15,20}")


@dataclass
class Exchange:
    """One recorded request and what the real service answered."""

    method: str
    path: str  # path and query, without scheme and host
    headers: dict[str, str]
    body: bytes | None
    status: int
    answer_headers: dict[str, str]
    answer: Any
    authorized: bool  # the recorded request carried credentials


def _first(values: Any) -> str:
    return str(values[0] if isinstance(values, list) else values)


def _bytes(body: Any) -> bytes | None:
    if isinstance(body, dict):  # {"string": ...} in vcrpy files; a JSON body itself (aiohttp)
        body = body.get("string") if "string" in body else json.dumps(body)
    if body is None or body == "":
        return None
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return None


def load(path: Path) -> list[Exchange]:
    """The interactions of one cassette file (vcrpy YAML or its older JSON form)."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    found = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        headers = {k: _first(v) for k, v in (request.get("headers") or {}).items()}
        answer_headers = {k.lower(): _first(v) for k, v in (response.get("headers") or {}).items()}
        found.append(
            Exchange(
                request["method"],
                url.path + (f"?{url.query}" if url.query else ""),
                {k: v for k, v in headers.items() if k.lower() not in _TRANSPORT},
                _bytes(request.get("body")),
                int(response["status"]["code"]),
                answer_headers,
                _json(_bytes(response.get("body"))),
                any(k.lower() == "authorization" for k in headers),
            )
        )
    return found


# A 1x1 JPEG: what a decoded cassette's "<binary N bytes>" image upload is replayed with.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b"
    "0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432"
    "ffc0000b080001000101011100ffc4001400010000000000000000000000000000000affc400141001000000"
    "00000000000000000000000000ffda0008010100003f00d2cf20ffd9"
)


def load_decoded(path: Path) -> list[Exchange]:
    """A `decoded/` cassette: bodies decoded, response headers reduced to the content type, so
    only status, error keys and media type can be compared (`answer_headers` says so)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        ctype = _first(request.get("content_type") or [""])
        body = request.get("body")
        headers = {"Content-Type": ctype} if ctype else {}
        if isinstance(body, str) and body.startswith("<binary"):
            body, headers = None, {"x-fidelity-upload": "image"}
        raw = json.dumps(body).encode() if isinstance(body, dict) else _bytes(body)
        answer_headers = {k.lower(): _first(v) for k, v in response["headers"].items()}
        answer_headers["x-fidelity-decoded"] = "1"
        found.append(
            Exchange(
                request["method"],
                url.path + (f"?{url.query}" if url.query else ""),
                headers,
                raw,
                int(response["status"]["code"]),
                answer_headers,
                response.get("body"),
                True,
            )
        )
    return found


def summary(status: int, headers: dict[str, str], body: Any) -> dict[str, Any]:
    lower = {k.lower(): v for k, v in headers.items()}
    content = body.get("content") if isinstance(body, dict) else None
    return {
        "status": status,
        "content": content,  # Mastodon's status HTML, as clients (and lookup) read it
        "error_keys": sorted(body) if status >= 400 and isinstance(body, dict) else None,
        "rate_headers": sorted(h for h in lower if RATE_HEADERS.fullmatch(h)),
        "content_type": lower.get("content-type", "").split(";")[0].strip(),
    }


def recorded(exchange: Exchange) -> dict[str, Any]:
    return summary(exchange.status, exchange.answer_headers, exchange.answer)


def comparable(exchange: Exchange, got: dict[str, Any]) -> dict[str, Any]:
    """`got`, less what the recording cannot show (a decoded cassette kept no rate headers)."""
    if "x-fidelity-decoded" in exchange.answer_headers:
        return {**got, "rate_headers": []}
    return got


def ids_in(body: Any) -> list[str]:
    """The ids an answer names (status, media, tweet ids), to map recorded ids to ours."""
    if not isinstance(body, dict):
        return []
    inner = body.get("data") if isinstance(body.get("data"), dict) else body
    return [str(inner[k]) for k in ("id", "media_id_string") if k in inner]


class Replay:
    """Sends a cassette's requests to one emulator, carrying ids over from earlier answers."""

    def __init__(self, base: str, auth: Any = None, token: str | None = None) -> None:
        self.base, self.auth, self.token = base, auth, token
        self.ids: dict[str, str] = {}

    def send(self, exchange: Exchange) -> dict[str, Any]:
        path = _IDS.sub(lambda m: self.ids.get(m.group(0), m.group(0)), exchange.path)
        body = exchange.body
        if body is not None:
            text = body.decode("latin-1")
            body = _IDS.sub(lambda m: self.ids.get(m.group(0), m.group(0)), text).encode("latin-1")
        headers = dict(exchange.headers)
        files = None
        if headers.pop("x-fidelity-upload", None):
            files = {"file": ("image.jpg", JPEG, "image/jpeg")}
        if self.token and exchange.authorized:
            headers["Authorization"] = f"Bearer {self.token}"
        got = requests.request(
            exchange.method,
            self.base + path,
            headers=headers,
            data=body,
            files=files,
            auth=self.auth,
            timeout=30,
        )
        answer = _json(got.content)
        for theirs, ours in zip(ids_in(exchange.answer), ids_in(answer), strict=False):
            self.ids[theirs] = ours
        return summary(got.status_code, dict(got.headers), answer)
