"""Delivery keys and Bluesky TIDs: deterministic, distinct, and valid atproto record keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from distributor.platforms.keys import TID_SYNTAX, bluesky_tid, delivery_key, tid_time

WHEN = datetime(2026, 11, 25, 7, 58, 12, 345678, tzinfo=UTC)
# the record-key syntax of https://atproto.com/specs/record-key
RECORD_KEY = r"[A-Za-z0-9._:~-]{1,512}"


def test_delivery_key_is_stable_hex_and_distinct() -> None:
    key = delivery_key("https://news.example/a", "mastodon_main", 0)
    assert key == delivery_key("https://news.example/a", "mastodon_main", 0)
    assert len(key) == 32 and int(key, 16) >= 0
    others = {
        delivery_key("https://news.example/a", "mastodon_main", 1),
        delivery_key("https://news.example/a", "bluesky_main", 0),
        delivery_key("https://news.example/b", "mastodon_main", 0),
        # the separator keeps ("a|b", "c") and ("a", "b|c") apart
        delivery_key("https://news.example/a\x1fmastodon_main", "x", 0),
    }
    assert key not in others and len(others) == 4


@pytest.mark.parametrize(
    ("article", "channel", "generation"), [("", "c", 0), ("a", "", 0), ("a", "c", -1)]
)
def test_delivery_key_refuses_bad_input(article: str, channel: str, generation: int) -> None:
    with pytest.raises(ValueError, match="delivery_key"):
        delivery_key(article, channel, generation)


def test_tid_is_valid_deterministic_and_carries_the_time() -> None:
    import re

    tid = bluesky_tid("k1", WHEN)
    assert TID_SYNTAX.fullmatch(tid) and re.fullmatch(RECORD_KEY, tid)
    assert len(tid) == 13 and tid not in (".", "..")
    assert tid == bluesky_tid("k1", WHEN)
    assert tid != bluesky_tid("k2", WHEN)
    # the timestamp is the millisecond of `when`, key-derived microseconds below it
    assert abs(tid_time(tid) - WHEN) < timedelta(milliseconds=1)
    assert tid_time(tid).replace(microsecond=0) == WHEN.replace(microsecond=0)


def test_tids_sort_by_time_and_naive_means_utc() -> None:
    earlier = bluesky_tid("z", WHEN)
    later = bluesky_tid("a", WHEN + timedelta(milliseconds=1))
    assert earlier < later  # base32-sortable: string order is time order
    naive = WHEN.replace(tzinfo=None)
    assert bluesky_tid("k", naive) == bluesky_tid("k", WHEN)
    berlin = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert bluesky_tid("k", berlin) == bluesky_tid("k", WHEN)


def test_tids_of_many_keys_in_one_millisecond_do_not_collide() -> None:
    # 20 key bits per millisecond: 200 deliveries in the same millisecond stay apart
    tids = {bluesky_tid(delivery_key(f"a{i}", "bluesky_main"), WHEN) for i in range(200)}
    assert len(tids) == 200
    assert all(TID_SYNTAX.fullmatch(t) for t in tids)


def test_tid_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        bluesky_tid("", WHEN)
    with pytest.raises(ValueError):
        bluesky_tid("k", datetime(1960, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="not a TID"):
        tid_time("3k2yihcrp6f2c!")
    # a real post's rkey (MarshalX fixture) decodes to a plausible 2023-2024 time
    assert 2023 <= tid_time("3k2yihcrp6f2c").year <= 2024
