"""The sandbox's control API under `/__sandbox/`: health, faults, limits, posts, requests, reset.

Tests and people drive a running sandbox through it (the Python API on `Sandbox` does the same
in-process). `GET /__sandbox/image.jpg` serves a stand-in article image for adapters to fetch.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from distributor.errors import ConfigError
from distributor.sandbox.emulator import Reply
from distributor.sandbox.faults import rule_from_dict

if TYPE_CHECKING:
    from distributor.sandbox.core import Sandbox

# A stand-in for an article image: JPEG markers around deterministic filler (nothing decodes it).
SAMPLE_JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes((i * 7) % 251 for i in range(2048))
    + b"\xff\xd9"
)


def handle_control(box: Sandbox, method: str, path: str, query: str, body: bytes) -> Reply:
    """Answer one control request; bad input is a 400 with a one-line `error`."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    platform = params.get("platform") or None
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return Reply(400, {"error": "body is not valid JSON"})
    try:
        return _route(box, method, path, params, platform, data)
    except ConfigError as exc:
        return Reply(400, {"error": str(exc)})


def _route(
    box: Sandbox,
    method: str,
    path: str,
    params: dict[str, str],
    platform: str | None,
    data: Any,
) -> Reply:
    key = (method, path.rstrip("/"))
    if key == ("GET", "/health"):
        return Reply(200, {"ok": True, "url": box.url, "platforms": sorted(box.emulators)})
    if key == ("GET", "/image.jpg"):
        return Reply(200, SAMPLE_JPEG, content_type="image/jpeg")
    if key == ("GET", "/faults"):
        return Reply(200, [r.to_dict() for r in box.faults.rules()])
    if key == ("POST", "/faults"):
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(i, dict) for i in items):
            raise ConfigError("fault: expected a JSON object or a list of objects")
        rules = [rule_from_dict(i) for i in items]
        return Reply(201, [box.faults.add(r).to_dict() for r in rules])
    if key == ("DELETE", "/faults"):
        box.faults.clear(platform)
        return Reply(200, {"ok": True})
    if key == ("GET", "/limits"):
        return Reply(200, box.limits.to_list())
    if key == ("POST", "/limits"):
        return _set_limit(box, data)
    if key == ("GET", "/posts"):
        deleted = params.get("include_deleted", "") in ("1", "true", "yes")
        names = [platform] if platform else sorted(box.emulators)
        return Reply(200, [p.to_dict() for n in names for p in box.posts(n, deleted)])
    if key == ("GET", "/requests"):
        return Reply(200, box.requests(platform))
    if key == ("POST", "/reset"):
        box.reset()
        return Reply(200, {"ok": True})
    return Reply(404, {"error": f"no control endpoint {method} /__sandbox{path}"})


def _set_limit(box: Sandbox, data: Any) -> Reply:
    if not isinstance(data, dict):
        raise ConfigError("limit: expected a JSON object {platform, route, limit, window}")
    try:
        platform, route = str(data["platform"]), str(data["route"])
        limit, window = int(data["limit"]), float(data["window"])
    except KeyError as exc:
        raise ConfigError(f"limit: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise ConfigError("limit: 'limit' must be an integer and 'window' a number") from None
    box.set_limit(platform, route, limit, window)
    return Reply(201, {"platform": platform, "route": route, "limit": limit, "window": window})
