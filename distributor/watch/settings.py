"""The `[watch]` table of distributor.toml, validated with one clear line per mistake.

    [watch]
    feeds = ["https://www.example.de/rss"]        # used when `distributor watch` gets no FEED
    allow_hosts = ["www.example.de", "*.example.de"]  # hosts feeds may be fetched from
    allow_private = false     # true: loopback/private/link-local addresses allowed too
    interval = "2m"           # between polls of each feed
    timeout = "30s"           # a whole fetch, connect to last byte
    max_size = "5 MiB"        # a bigger response is refused
    max_new = 20              # more new items in one poll are held for a person (0: no limit)

Every key is optional. Without `allow_hosts` no URL may be watched (only files).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from distributor.config import parse_duration, parse_size
from distributor.errors import ConfigError
from distributor.sources.files import MAX_FETCH_BYTES
from distributor.sources.hosts import HostPolicy

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.fetch import Rules

_KEYS = ("feeds", "allow_hosts", "allow_private", "interval", "timeout", "max_size", "max_new")
_HOST = re.compile(r"(\*|(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?|\[?[0-9a-f:.]+\]?)", re.I)


@dataclass(frozen=True, slots=True)
class WatchSettings:
    feeds: tuple[str, ...] = ()
    interval: float = 120.0
    timeout: float = 30.0
    max_bytes: int = MAX_FETCH_BYTES
    max_new: int = 20
    hosts: HostPolicy = field(default_factory=HostPolicy)

    def rules(self) -> Rules:
        """The fetch guard's rules for feeds and pages fetched under this table."""
        from distributor.fetch import Rules

        return Rules(self.hosts, deadline=self.timeout, max_bytes=self.max_bytes)


def watch_settings(settings: Settings) -> WatchSettings:
    """The `[watch]` table of `settings` (defaults when there is none)."""
    return parse_watch(settings.sections.get("watch", {}), settings.where)


def parse_watch(raw: Any, where: str) -> WatchSettings:
    """Validate a `[watch]` table; ConfigError naming the file and the key."""

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: [watch] key {key!r}: {problem}")

    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: [watch] must be a table")
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(f"{where}: [watch] unknown key {key!r} (known: {', '.join(_KEYS)})")
    private = raw.get("allow_private", False)
    if not isinstance(private, bool):
        raise err("allow_private", "must be true or false")
    return WatchSettings(
        feeds=_strings(raw.get("feeds"), "feeds", err),
        interval=_seconds(raw.get("interval", 120), "interval", err, minimum=1.0),
        timeout=_seconds(raw.get("timeout", 30), "timeout", err, minimum=0.1),
        max_bytes=parse_size(raw.get("max_size", MAX_FETCH_BYTES), err, "max_size"),
        max_new=_count(raw.get("max_new", 20), "max_new", err),
        hosts=HostPolicy(_hosts(raw.get("allow_hosts"), err), allow_private=private),
    )


def _strings(value: Any, key: str, err: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise err(key, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _hosts(value: Any, err: Any) -> tuple[str, ...]:
    hosts = _strings(value, "allow_hosts", err)
    for host in hosts:
        if "/" in host or not _HOST.fullmatch(host):
            raise err(
                "allow_hosts",
                f"{host!r} is not a host name (write www.example.de or *.example.de, not a URL)",
            )
    return tuple(h.strip("[]").lower() for h in hosts)


def _seconds(value: Any, key: str, err: Any, *, minimum: float) -> float:
    seconds = parse_duration(value, err, key)
    if seconds < minimum:
        raise err(key, f"must be at least {minimum:g} s")
    return seconds


def _count(value: Any, key: str, err: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise err(key, "must be a whole number >= 0")
    return value
