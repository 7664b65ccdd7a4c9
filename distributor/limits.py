"""Per-platform text length, counted as each platform counts it (placeholder: being written).

API (stable): `length(platform, text) -> int`, `fits(platform, text, limit=None) -> bool`,
`limit_for(platform, caption=False, override=None) -> int`.
"""

from __future__ import annotations

from distributor.platforms.registry import spec


def limit_for(platform: str, *, caption: bool = False, override: int | None = None) -> int:
    if override:
        return override
    limits = spec(platform).limits
    return limits.caption if caption and limits.caption else limits.text


def length(platform: str, text: str) -> int:
    return len(text)


def fits(platform: str, text: str, limit: int | None = None) -> bool:
    return length(platform, text) <= (limit or limit_for(platform))
