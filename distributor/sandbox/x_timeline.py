"""X emulator: the user timeline (`GET /2/users/:id/tweets`) with X's paging and time filters.

Newest first; `max_results` must be 5..100 (default 10); `start_time`/`end_time` are RFC 3339;
`since_id`/`until_id`, `exclude=replies`, `pagination_token` and `tweet.fields` (`created_at`,
`author_id`, `entities`, `attachments`) are honoured. No tweets -> `{"meta": {"result_count": 0}}`
without a `data` key, as X answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from distributor.sandbox.emulator import Post, Reply, Request
from distributor.sandbox.x import invalid_request


def timeline_page(req: Request, posts: list[Post], user_id: str) -> Reply:
    """One page of `user_id`'s tweets as the v2 API returns it."""

    def q(name: str) -> str:
        return (req.query.get(name) or [""])[0]

    raw_max = q("max_results") or "10"
    if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
        message = f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100"
        return invalid_request(message, "max_results", raw_max)
    bounds: dict[str, float] = {}
    for name in ("start_time", "end_time"):
        if q(name):
            when = parse_time(q(name))
            if when is None:
                message = f"Invalid '{name}':'{q(name)}'. '{name}' must be in RFC 3339 format."
                return invalid_request(message, name, q(name))
            bounds[name] = when
    token = q("pagination_token")
    if token and not (token.startswith("7140") and token[4:].isdigit()):
        return invalid_request("The `pagination_token` query parameter value is invalid.")
    mine = _select(posts, user_id, bounds, q)
    offset, size = int(token[4:] or 0) if token else 0, int(raw_max)
    page = mine[offset : offset + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if not page:
        return Reply(200, {"meta": meta})
    meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
    if offset + size < len(mine):
        meta["next_token"] = f"7140{offset + size}"
    fields = set(q("tweet.fields").split(",")) - {""}
    return Reply(200, {"data": [tweet_json(p, fields) for p in page], "meta": meta})


def _select(posts: list[Post], user_id: str, bounds: dict[str, float], q: Any) -> list[Post]:
    start, end = bounds.get("start_time"), bounds.get("end_time")
    since_id, until_id = q("since_id"), q("until_id")
    exclude = set(q("exclude").split(","))
    mine = [
        p
        for p in posts
        if p.account == user_id
        and (start is None or p.created_at >= start)
        and (end is None or p.created_at < end)
        and (not since_id.isdigit() or int(p.id) > int(since_id))
        and (not until_id.isdigit() or int(p.id) < int(until_id))
        and not ("replies" in exclude and p.data.get("reply_to"))
    ]
    mine.sort(key=lambda p: int(p.id), reverse=True)
    return mine


def parse_time(value: str) -> float | None:
    """An RFC 3339 time (`2026-11-25T09:18:43Z`, fractions allowed) as epoch seconds."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


def iso_ms(epoch: float) -> str:
    """X's timestamp format: `2026-11-25T09:18:43.000Z`."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def tweet_json(post: Post, fields: set[str]) -> dict[str, Any]:
    """A tweet object as the v2 API returns it, with the requested `tweet.fields`."""
    tweet: dict[str, Any] = {
        "id": post.id,
        "text": post.data.get("display_text", post.text),
        "edit_history_tweet_ids": [post.id],
    }
    if "created_at" in fields:
        tweet["created_at"] = iso_ms(post.created_at)
    if "author_id" in fields:
        tweet["author_id"] = post.account
    if "entities" in fields and post.data.get("urls"):
        tweet["entities"] = {"urls": post.data["urls"]}
    if "attachments" in fields and post.data.get("media_ids"):
        tweet["attachments"] = {"media_keys": [f"3_{m}" for m in post.data["media_ids"]]}
    return tweet
