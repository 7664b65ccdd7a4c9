"""The scheduling rules as pure functions of time: newsroom time zone, quiet hours, `--at`.

Order (docs/scheduling.md): embargo > quiet hours > publish_at > spacing > rate limits. This
module computes the first three (the earliest moment a delivery may go); spacing (`min_gap`)
and rate limits are shared by all workers through the store and applied when sending.

Wall-clock rules (quiet hours, `--at` without an offset) are read in the newsroom time zone
(`[distributor] timezone`); everything stored is UTC, so a DST change moves nothing twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from distributor.errors import ConfigError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

BREAKING = "breaking"
PRIORITIES = {"normal": 0, BREAKING: 1}


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone `name` (IANA, e.g. Europe/Berlin); ConfigError if unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        raise ConfigError(msg) from None


@dataclass(frozen=True, slots=True)
class Quiet:
    """Quiet hours `start-end` in wall-clock time; across midnight when end <= start."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, when: datetime, tz: ZoneInfo) -> bool:
        """True when `when` (aware) falls inside the quiet hours, read in `tz`."""
        wall = when.astimezone(tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def end_after(self, when: datetime, tz: ZoneInfo) -> datetime:
        """`when` itself outside the quiet hours, else the first moment after them (UTC)."""
        if not self.covers(when, tz):
            return when
        local = when.astimezone(tz)
        candidates = [
            datetime.combine(local.date() + timedelta(days=day), self.end, tzinfo=tz)
            .replace(fold=fold)
            .astimezone(UTC)
            for day in (0, 1)
            for fold in (0, 1)
        ]
        hi = min(c for c in candidates if c > when and not self.covers(c, tz))
        return _first_outside(self, when, hi, tz)


def _first_outside(q: Quiet, lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """Bisect to the whole second: when the end's wall time does not exist (the spring-forward
    gap, e.g. 02:30 in Berlin on the last Sunday of March), quiet hours end at the jump."""
    a, b = int(lo.timestamp()), int(hi.timestamp())
    if q.covers(datetime.fromtimestamp(b - 1, UTC), tz):
        return hi
    while b - a > 1:  # covers(a) is true, covers(b) false
        mid = (a + b) // 2
        a, b = (mid, b) if q.covers(datetime.fromtimestamp(mid, UTC), tz) else (a, mid)
    return datetime.fromtimestamp(b, UTC)


def parse_quiet(value: object) -> Quiet:
    """`"23:00-06:30"` -> Quiet; ValueError with the reason."""
    m = (
        re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if isinstance(value, str)
        else None
    )
    if m is None:
        raise ValueError(f'not quiet hours: {value!r} (use e.g. "23:00-06:30")')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"not quiet hours: {value!r} (hours 00-23, minutes 00-59)")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"quiet hours {value!r} start and end at the same time")
    return Quiet(time(h1, m1), time(h2, m2))


def quiet_option(value: object, err: Any) -> Quiet | None:
    """A channel's `quiet` key (None when unset); `err(key, problem)` builds the error."""
    if value is None or value == "":
        return None
    try:
        return parse_quiet(value)
    except ValueError as exc:
        raise err("quiet", str(exc)) from None


def timezone_option(value: object, where: str) -> str:
    """`[distributor] timezone`: an IANA name, checked now so a typo fails at start-up."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: [distributor] key 'timezone' must be a non-empty string")
    try:
        zone(value.strip())
    except ConfigError as exc:
        raise ConfigError(f"{where}: [distributor] key 'timezone': {exc}") from None
    return value.strip()


def parse_at(text: str, tz_name: str, what: str = "--at") -> datetime:
    """`2026-12-03 07:30` (newsroom time zone) or ISO 8601 with an offset -> aware UTC.

    ValueError naming `what` for text that is no date, or a wall time the DST change skips."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValueError(
            f'{what}: not a date and time: {text!r} (use e.g. "2026-12-03 07:30" or '
            '"2026-12-03T07:30+01:00")'
        ) from None
    return as_utc(parsed, tz_name, what)


def as_utc(when: datetime, tz_name: str, what: str) -> datetime:
    """An aware `when` in UTC; a naive one is wall time in `tz_name` (an ambiguous wall time
    at the autumn change is its first occurrence; one the spring change skips is an error)."""
    if when.tzinfo is not None:
        return when.astimezone(UTC)
    tz = zone(tz_name)
    local = when.replace(tzinfo=tz)
    back = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != when:
        raise ValueError(
            f"{what}: {when:%Y-%m-%d %H:%M} does not exist in {tz_name} (the clocks skip it); "
            "give an offset or another time"
        )
    return local.astimezone(UTC)


def priority_rank(value: str | None) -> int:
    """Sort rank of an article priority (higher goes first); 0 for none/normal."""
    return PRIORITIES.get((value or "normal").lower(), 0)


def earliest(
    ready: datetime,
    *,
    publish_at: datetime | None = None,
    embargo_until: datetime | None = None,
    quiet: Quiet | None = None,
    tz_name: str = "UTC",
    breaking: bool = False,
) -> datetime:
    """The first moment a delivery may go: not before `ready` (now + the channel's delay),
    `publish_at` and the embargo, then out of quiet hours unless breaking. The embargo is a
    floor no rule moves below; a time in quiet hours waits until they end."""
    when = max(t for t in (ready, publish_at, embargo_until) if t is not None)
    if quiet is not None and not breaking:
        when = quiet.end_after(when, zone(tz_name))
    return when
