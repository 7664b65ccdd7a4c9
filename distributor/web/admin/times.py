"""Times as the newsroom reads them: in its time zone (`[admin] timezone`) with the zone's
name, and ages like "vor 5 Min." / "5 min. ago" (Babel's CLDR data, so plurals and
abbreviations are right in both languages). Everything stored stays UTC; only pages convert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.review import iso
from distributor.store.models import from_ts

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

NONE = "–"
_FORMATS = {"en": "%Y-%m-%d %H:%M", "de": "%d.%m.%Y, %H:%M"}


class Clockface:
    """Formats times for one language and time zone; `now` is the app's clock."""

    def __init__(self, lang: str, tz: ZoneInfo, now: Callable[[], datetime]) -> None:
        self.lang = lang
        self.tz = tz
        self.now = now

    def when(self, value: datetime | None) -> str:
        """`2026-12-03 09:15 CET` / `03.12.2026, 09:15 MEZ` (to the minute, with the zone)."""
        if value is None:
            return NONE
        local = value.astimezone(self.tz)
        return f"{local.strftime(_FORMATS.get(self.lang, _FORMATS['en']))} {self.zone(local)}"

    def zone(self, local: datetime) -> str:
        """The zone's short name in this language (MEZ/MESZ in German), else its abbreviation."""
        fallback = local.tzname() or "UTC"
        if self.lang == "en":
            return fallback
        from babel.dates import format_datetime

        name = format_datetime(local, "z", tzinfo=self.tz, locale=self.lang)
        return name if name.isalpha() else fallback

    def ago(self, value: datetime | None) -> str:
        """How long ago (or, for a time ahead, how soon): `vor 5 Min.`, `in 2 Std.`."""
        if value is None:
            return ""
        from babel.dates import format_timedelta

        delta = value - self.now()
        return str(format_timedelta(delta, add_direction=True, format="short", locale=self.lang))

    def stamp(self, value: datetime | None) -> Any:
        """A `<time>` element: the local time with its zone, then the age in brackets."""
        from markupsafe import Markup

        if value is None:
            return NONE
        return Markup('<time datetime="{}">{} <small class="ago">({})</small></time>').format(
            iso(value), self.when(value), self.ago(value)
        )

    def filters(self) -> dict[str, Callable[..., Any]]:
        """Jinja filters: `when`, `ago`, `stamp`, and `epoch` for stored epoch seconds."""
        return {
            "when": self.when,
            "ago": self.ago,
            "stamp": self.stamp,
            "epoch": lambda ts: self.when(from_ts(ts)),
        }
