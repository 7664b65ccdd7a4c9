"""Mastodon and Bluesky receipts carry the rate-limit headers (dispatch paces by them).

With a sandbox limit of 2 creates per window, the receipts count down `rate_remaining` 1, 0 and
name the window's reset; the third post is refused with RateLimited, as the headers announced.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from plain_http import adapter, draft

from distributor.errors import RateLimited


@pytest.mark.parametrize("channel", ["mastodon_main", "bluesky_main"])
def test_receipts_count_down_the_window(sandbox: Any, sandbox_settings: Any, channel: str) -> None:
    platform = channel.split("_")[0]
    sandbox.set_limit(platform, "create", limit=2, window=30.0)
    client = adapter(sandbox_settings, channel)
    base = replace(draft(sandbox_settings, channel), image=None)
    receipts = [
        client.publish(replace(base, text=f"{base.text[:200]} {n}"), key=f"rate-{n}")
        for n in (1, 2)
    ]
    assert [r.extra["rate_remaining"] for r in receipts] == ["1", "0"]
    reset = datetime.fromisoformat(receipts[1].extra["rate_reset"])
    assert datetime.now(UTC) < reset <= datetime.now(UTC) + timedelta(seconds=31)
    with pytest.raises(RateLimited):
        client.publish(replace(base, text=f"{base.text[:200]} 3"), key="rate-3")
    assert len(sandbox.posts(platform)) == 2
