"""The sandbox's control API under `/__sandbox/`: health, faults, limits, posts, requests, reset.

Tests and people drive a running sandbox through it (the Python API on `Sandbox` does the same
in-process). `GET /__sandbox/image.jpg` serves a stand-in article image for adapters to fetch.
Faults and limits are JSON objects (or lists of them), or plain-text lines in the command-line
spec form (`curl -d 'mastodon:create:error:503:count=2' .../__sandbox/faults`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from distributor.errors import ConfigError
from distributor.sandbox.emulator import Reply
from distributor.sandbox.faults import parse_fault, parse_limit, rule_from_dict

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
        data = _parse_body(method, path.rstrip("/"), body)
        return _route(box, method, path, params, platform, data)
    except ConfigError as exc:
        return Reply(400, {"error": str(exc)})


def _parse_body(method: str, path: str, body: bytes) -> Any:
    """JSON, or for POST /faults and /limits plain-text spec lines (parsed into dicts)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("body is not UTF-8") from None
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if (method, path) == ("POST", "/faults"):
        return [parse_fault(line).to_dict() for line in lines]
    if (method, path) == ("POST", "/limits"):
        return [
            dict(zip(("platform", "route", "limit", "window"), parse_limit(line), strict=True))
            for line in lines
        ]
    raise ConfigError("body is not valid JSON")


def _route(
    box: Sandbox,
    method: str,
    path: str,
    params: dict[str, str],
    platform: str | None,
    data: Any,
) -> Reply:
    key = (method, path.rstrip("/"))
    if key == ("GET", ""):
        return Reply(200, _index(box))
    if key == ("GET", "/health"):
        return Reply(200, {"ok": True, "url": box.url, "platforms": sorted(box.emulators)})
    if key == ("GET", "/routes"):
        names = [platform] if platform else sorted(box.emulators)
        return Reply(200, {n: box.route_names(n) for n in names})
    if key == ("GET", "/image.jpg") or (method == "GET" and path.startswith("/media/")):
        # /media/<host>/<path>: in sandbox mode adapters fetch article images from here.
        return Reply(200, SAMPLE_JPEG, content_type="image/jpeg")
    if key == ("GET", "/faults"):
        return Reply(200, [r.to_dict() for r in box.faults.rules()])
    if key == ("POST", "/faults"):
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(i, dict) for i in items):
            raise ConfigError("fault: expected a JSON object or a list of objects")
        rules = [rule_from_dict(i) for i in items]
        for rule in rules:  # all or nothing
            box.check_target(rule.platform, rule.route)
        return Reply(201, [box.faults.add(r).to_dict() for r in rules])
    if key == ("DELETE", "/faults"):
        box.faults.clear(platform)
        return Reply(200, {"ok": True})
    if key == ("GET", "/limits"):
        return Reply(200, box.limits.to_list())
    if key == ("POST", "/limits"):
        limits = [_limit(box, item) for item in (data if isinstance(data, list) else [data])]
        for platform_, route, limit, window in limits:  # all checked first: all or nothing
            box.set_limit(platform_, route, limit, window)
        fields = ("platform", "route", "limit", "window")
        answer = [dict(zip(fields, item, strict=True)) for item in limits]
        return Reply(201, answer if isinstance(data, list) else answer[0])
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


def _index(box: Sandbox) -> dict[str, Any]:
    """What a person opening the sandbox URL in a browser needs to get going."""
    control = f"{box.url}/__sandbox"
    return {
        "sandbox": box.url,
        "platforms": {name: box.base_url(name) for name in box.emulators},
        "config": f'[distributor]\nsandbox = "{box.url}"',
        "control": {
            "health": f"GET {control}/health",
            "routes": f"GET {control}/routes?platform=NAME",
            "posts": f"GET {control}/posts?platform=NAME[&include_deleted=1]",
            "requests": f"GET {control}/requests?platform=NAME",
            "faults": f"GET|POST|DELETE {control}/faults",
            "limits": f"GET|POST {control}/limits",
            "reset": f"POST {control}/reset",
        },
    }


def _limit(box: Sandbox, data: Any) -> tuple[str, str, int, float]:
    if not isinstance(data, dict):
        raise ConfigError("limit: expected a JSON object {platform, route, limit, window}")
    try:
        platform, route = str(data["platform"]), str(data["route"])
        limit, window = int(data["limit"]), float(data["window"])
    except KeyError as exc:
        raise ConfigError(f"limit: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise ConfigError("limit: 'limit' must be an integer and 'window' a number") from None
    if limit < 1 or window <= 0:
        raise ConfigError(f"limit {limit}/{window}s: limit must be >= 1 and window > 0")
    box.check_target(platform, route, wildcards=False)
    return platform, route, limit, window
