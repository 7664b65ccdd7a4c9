"""What Meta's Graph emulators share (Facebook, Instagram): error objects, usage headers, paging.

Errors are `{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id",
"is_transient"?}}` with the HTTP status Graph uses (400 for most codes, 403 for permissions,
500/503 for codes 1/2) and a `WWW-Authenticate` header. Usage headers are JSON: `X-App-Usage`,
`X-Page-Usage` (percentages) and `X-Business-Use-Case-Usage` (per account, with
`estimated_time_to_regain_access` in minutes). Listings page with base64 offset cursors
(`paging.cursors.after`, `paging.next` while more remain), newest first.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import Sequence
from typing import Any, TypeVar

from distributor.sandbox.emulator import Reply, Request

API_VERSION = "v21.0"
RATE_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
T = TypeVar("T")
# code -> (HTTP status, type, message, subcode): texts as Graph sends them
CODES: dict[int, tuple[int, str, str, int | None]] = {
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


def graph_error(
    code: int,
    message: str = "",
    *,
    status: int = 0,
    subcode: int | None = None,
    version: str = API_VERSION,
    **extra: Any,
) -> Reply:
    """A Graph error object with the status, type and headers Graph sends for `code`."""
    default_status, kind, default_message, default_sub = CODES.get(
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
        "facebook-api-version": version,
        "x-fb-trace-id": error["fbtrace_id"][:11],
    }
    return Reply(status or default_status, {"error": error}, headers)


def trace_headers(version: str | None) -> dict[str, str]:
    """The headers on every Graph answer."""
    trace = format(zlib.crc32(secrets.token_bytes(8)), "08x")
    return {"facebook-api-version": version or API_VERSION, "x-fb-trace-id": trace}


def graph_time(epoch: float) -> str:
    """Graph's timestamp format: `2019-08-12T03:45:11+0000`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


def usage_headers(
    account: str, percent: int, regain_minutes: float, kind: str = "pages"
) -> dict[str, str]:
    """The JSON-valued usage headers of a business token (Business Use Case limits)."""
    flat = {"call_count": percent, "total_time": max(1, percent // 4), "total_cputime": 1}
    buc = {account: [{"type": kind, **flat, "estimated_time_to_regain_access": regain_minutes}]}
    return {
        "X-App-Usage": json.dumps(flat),
        "X-Page-Usage": json.dumps(flat),
        "X-Business-Use-Case-Usage": json.dumps(buc),
    }


def route_usage(
    account: str, limit: int, remaining: int, seconds_left: float, kind: str = "pages"
) -> dict[str, str]:
    """The usage headers of a limited route: its share used, the regain estimate once used up."""
    used = limit - max(0, remaining)
    percent = min(100, round(100 * used / limit)) if limit else 0
    regain = regain_minutes(seconds_left) if remaining <= 0 else 0
    return usage_headers(account, percent, regain, kind)


def regain_minutes(seconds: float) -> float:
    """`estimated_time_to_regain_access`: whole minutes, as Graph sends it, from a minute up;
    a sandbox reset shorter than that as a fraction, so fast tests don't wait a minute."""
    seconds = max(1.0, seconds)
    return math.ceil(seconds / 60) if seconds >= 60 else round(seconds / 60, 4)


def fields_of(req: Request, default: str) -> list[str]:
    """The top-level field names (`attachments{url,target}` names `attachments`)."""
    raw = re.sub(r"\{[^{}]*\}", "", re.sub(r"\{[^{}]*\}", "", req.param("fields") or default))
    return [f.strip() for f in raw.split(",") if f.strip()] + ["id"]


def epoch(value: str | None, default: float) -> float:
    """A `since`/`until` value: a unix timestamp or an ISO-8601 date/time."""
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        from datetime import UTC, datetime

        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def window(req: Request) -> tuple[float, float, int, int]:
    """(since, until, limit, offset) of a listing request; ValueError when one is malformed."""
    since = epoch(req.param("since"), 0.0)
    until = epoch(req.param("until"), float("inf"))
    limit = min(100, max(1, int(req.param("limit") or 25)))
    start = int(base64.b64decode(req.param("after") or "MA==").decode() or 0)
    return since, until, limit, start


def paged(
    items: Sequence[T], start: int, limit: int, next_url: str
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` from offset `start`, and its `paging` object; `next_url` gets
    `&after=<cursor>` appended when more remain."""
    chunk = list(items[start : start + limit])
    paging: dict[str, Any] = {}
    if chunk:
        cursor = base64.b64encode(str(start + len(chunk)).encode()).decode()
        before = base64.b64encode(str(start).encode()).decode()
        paging["cursors"] = {"before": before, "after": cursor}
        if start + len(chunk) < len(items):
            paging["next"] = f"{next_url}&limit={limit}&after={cursor}"
    return chunk, paging
