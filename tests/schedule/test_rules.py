"""The schedule rules as pure functions: quiet hours across midnight and across both DST changes
in Europe/Berlin, `--at` parsing, the order embargo > quiet hours > publish_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from distributor.config import Channel
from distributor.errors import ConfigError
from distributor.schedule.rules import earliest, parse_at, parse_quiet, zone

BERLIN = zone("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_quiet_hours_across_midnight() -> None:
    q = parse_quiet("23:00-06:30")
    # winter: Berlin is UTC+1
    assert not q.covers(utc(2026, 1, 14, 21, 59), BERLIN)  # 22:59 local
    assert q.covers(utc(2026, 1, 14, 22, 0), BERLIN)  # 23:00 local
    assert q.covers(utc(2026, 1, 15, 5, 29), BERLIN)  # 06:29 local, the next day
    assert not q.covers(utc(2026, 1, 15, 5, 30), BERLIN)  # 06:30 local: over
    assert q.end_after(utc(2026, 1, 14, 23, 10), BERLIN) == utc(2026, 1, 15, 5, 30)
    assert q.end_after(utc(2026, 1, 15, 2, 0), BERLIN) == utc(2026, 1, 15, 5, 30)
    outside = utc(2026, 1, 15, 12, 0)
    assert q.end_after(outside, BERLIN) == outside


def test_quiet_hours_within_one_day() -> None:
    q = parse_quiet("12:00-13:30")
    assert q.end_after(utc(2026, 7, 1, 10, 15), BERLIN) == utc(2026, 7, 1, 11, 30)  # CEST
    assert not q.covers(utc(2026, 7, 1, 11, 30), BERLIN)


def test_quiet_hours_over_the_march_change() -> None:
    # Sunday 29 March 2026: 02:00 CET -> 03:00 CEST. The night is one hour shorter.
    q = parse_quiet("23:00-06:30")
    start = utc(2026, 3, 28, 22, 0)  # 23:00 CET Saturday
    assert q.covers(start, BERLIN)
    assert q.end_after(start, BERLIN) == utc(2026, 3, 29, 4, 30)  # 06:30 CEST
    assert q.end_after(start, BERLIN) - start == timedelta(hours=6, minutes=30)


def test_quiet_hours_ending_in_the_skipped_hour() -> None:
    # 02:30 does not exist on 29 March 2026 in Berlin: quiet hours end at the jump (03:00 CEST)
    q = parse_quiet("01:00-02:30")
    assert q.end_after(utc(2026, 3, 29, 0, 15), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_quiet_hours_over_the_october_change() -> None:
    # Sunday 25 October 2026: 03:00 CEST -> 02:00 CET. The night is one hour longer.
    q = parse_quiet("23:00-06:30")
    start = utc(2026, 10, 24, 21, 0)  # 23:00 CEST Saturday
    assert q.covers(start, BERLIN)
    assert q.end_after(start, BERLIN) == utc(2026, 10, 25, 5, 30)  # 06:30 CET
    assert q.end_after(start, BERLIN) - start == timedelta(hours=8, minutes=30)
    # the repeated hour (02:00-03:00 twice) is quiet both times
    assert q.covers(utc(2026, 10, 25, 0, 30), BERLIN) and q.covers(utc(2026, 10, 25, 1, 30), BERLIN)


@pytest.mark.parametrize("bad", ["23:00", "25:00-06:00", "23:00-23:00", "late-early", 5])
def test_bad_quiet_hours_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        parse_quiet(bad)


def test_at_in_the_newsroom_time_zone_or_with_an_offset() -> None:
    assert parse_at("2026-12-03 07:30", "Europe/Berlin") == utc(2026, 12, 3, 6, 30)
    assert parse_at("2026-07-03 07:30", "Europe/Berlin") == utc(2026, 7, 3, 5, 30)
    assert parse_at("2026-12-03T07:30+00:00", "Europe/Berlin") == utc(2026, 12, 3, 7, 30)
    assert parse_at("2026-12-03 07:30", "UTC") == utc(2026, 12, 3, 7, 30)


def test_at_refuses_nonsense_and_skipped_wall_times() -> None:
    with pytest.raises(ValueError, match="--at: not a date and time: 'tomorrow'"):
        parse_at("tomorrow", "Europe/Berlin")
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        parse_at("2026-03-29 02:30", "Europe/Berlin")
    # the repeated hour in October is its first occurrence (still summer time)
    assert parse_at("2026-10-25 02:30", "Europe/Berlin") == utc(2026, 10, 25, 0, 30)


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


def test_rule_order_embargo_quiet_publish_at() -> None:
    q = parse_quiet("23:00-06:30")
    now = utc(2026, 1, 14, 9, 0)
    # publish_at inside quiet hours waits for their end (quiet hours beat publish_at)
    at = utc(2026, 1, 14, 23, 0)  # 00:00 local
    assert earliest(now, publish_at=at, quiet=q, tz_name="Europe/Berlin") == utc(2026, 1, 15, 5, 30)
    # ... unless the article is breaking news
    assert earliest(now, publish_at=at, quiet=q, tz_name="Europe/Berlin", breaking=True) == at
    # the embargo beats everything, breaking news included
    emb = utc(2026, 1, 15, 8, 0)
    got = earliest(now, publish_at=at, embargo_until=emb, quiet=q, breaking=True)
    assert got == emb
    # an embargo ending in quiet hours waits for them too
    assert earliest(now, embargo_until=at, quiet=q, tz_name="Europe/Berlin") == utc(
        2026, 1, 15, 5, 30
    )


def test_channel_keys_from_the_config(tmp_path: object) -> None:
    from pathlib import Path

    from distributor.config import load_config

    cfg = Path(str(tmp_path)) / "distributor.toml"
    cfg.write_text(
        '[distributor]\ntimezone = "Europe/Berlin"\nsandbox = true\n'
        '[channels.m]\nplatform = "mastodon"\ninstance = "https://m.example"\n'
        'access_token_env = "T"\nquiet = "23:00-06:30"\nmin_gap = "10min"\n',
        encoding="utf-8",
    )
    s = load_config(cfg, environ={})
    ch: Channel = s.channel("m")
    assert s.timezone == "Europe/Berlin" and ch.min_gap == 600 and str(ch.quiet) == "23:00-06:30"
    cfg.write_text(cfg.read_text().replace('"23:00-06:30"', '"23-6"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="channel 'm' key 'quiet': not quiet hours"):
        load_config(cfg, environ={})
    text = cfg.read_text().replace('"23-6"', '"23:00-06:30"').replace("Berlin", "Nowhere")
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="'timezone': unknown time zone 'Europe/Nowhere'"):
        load_config(cfg, environ={})
