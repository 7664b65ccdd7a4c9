"""Fault injection and per-route rate limits for the sandbox.

A `FaultRule` matches requests by platform and route name and fires for the next `count`
matching requests, with probability `rate` (seeded RNG, so runs repeat), both (each matching
request with probability `rate`, at most `count` times), or always. Latency rules add up; of the
other rules the first one that fires decides what happens to the request. `RouteLimits` keeps
fixed windows per (platform, route, account) like the platforms do. `parse_fault` and
`parse_limit` read the command-line forms (`mastodon:create:error:503:count=2`,
`mastodon:create:30/5min`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from distributor.errors import ConfigError
from distributor.sandbox.emulator import ERROR_KINDS

KINDS = ("latency", "error", "rate_limit", "hang", "reset", "lost")
LOST_MODES = ("reset", "504")
_DEFAULT_ERROR = {400: "invalid", 401: "auth", 403: "forbidden", 404: "not_found"}


@dataclass
class FaultRule:
    """One fault: what happens to which requests, and how often."""

    platform: str = "*"
    route: str = "*"
    kind: str = "error"
    count: int | None = None  # the next N matching requests
    rate: float | None = None  # or each matching request with this probability
    status: int = 503
    seconds: float = 0.0  # latency, hang duration, or rate-limit reset delay
    mode: str = "reset"  # lost: "reset" (RST) or "504" (gateway timeout page)
    error: str = ""  # emulator error kind; default from status ("html" for proxy pages)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"fault kind {self.kind!r} unknown (use one of {', '.join(KINDS)})")
        if self.error and self.error not in ERROR_KINDS:
            kinds = ", ".join(ERROR_KINDS)
            raise ConfigError(f"fault error kind {self.error!r} unknown (use one of {kinds})")
        if self.kind == "lost" and self.mode not in LOST_MODES:
            raise ConfigError(f"fault mode {self.mode!r} unknown for 'lost' (use reset or 504)")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ConfigError(f"fault rate {self.rate} must be between 0 and 1")
        if self.count is not None and self.count < 1:
            raise ConfigError(f"fault count {self.count} must be at least 1")
        if not 100 <= self.status <= 599:
            raise ConfigError(f"fault status {self.status} is not an HTTP status")
        if self.seconds < 0:
            raise ConfigError(f"fault seconds {self.seconds} must not be negative")
        if self.kind == "hang" and not self.seconds:
            self.seconds = 30.0
        if not self.error:
            self.error = _DEFAULT_ERROR.get(self.status, "server")

    def matches(self, platform: str, route: str) -> bool:
        return self.platform in ("*", platform) and self.route in ("*", route)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_spec(self) -> str:
        """The command-line form; `parse_fault(rule.to_spec())` gives an equal rule."""
        parts = [self.platform, self.route, self.kind]
        if self.kind == "error":
            parts += [str(self.status), self.error]
        elif self.kind in ("latency", "hang", "rate_limit"):
            parts.append(f"{self.seconds:g}")
        elif self.kind == "lost":
            parts.append(self.mode)
        if self.count is not None:
            parts.append(f"count={self.count}")
        if self.rate is not None:
            parts.append(f"rate={self.rate:g}")
        return ":".join(parts)


@dataclass(frozen=True)
class Decision:
    """What the fault engine decided for one request."""

    latency: float = 0.0
    rule: FaultRule | None = None


def _rate(value: Any) -> float:
    """`0.3` or `"30%"`."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1]) / 100
    return float(value)


def _seconds(value: Any) -> float:
    """`2`, `"2s"` or `"250ms"`."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.endswith("ms"):
            return float(text[:-2]) / 1000
        return float(text.removesuffix("s"))
    return float(value)


def _int(value: Any) -> int:
    """An integer; refuses floats that would silently truncate (`2.5`) and booleans."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "platform": str,
    "route": str,
    "kind": str,
    "count": _int,
    "rate": _rate,
    "status": _int,
    "seconds": _seconds,
    "mode": str,
    "error": str,
}
_POSITIONAL = {
    "error": "status",
    "latency": "seconds",
    "hang": "seconds",
    "rate_limit": "seconds",
    "lost": "mode",
}


def rule_from_dict(data: Mapping[str, Any]) -> FaultRule:
    """A rule from JSON / keyword arguments; ConfigError naming the bad key."""
    unknown = set(data) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"fault: unknown key(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        try:
            values[key] = _FIELDS[key](value)
        except (TypeError, ValueError):
            raise ConfigError(f"fault: key {key!r} has a bad value {value!r}") from None
    return FaultRule(**values)


def parse_fault(spec: str) -> FaultRule:
    """`platform:route:kind[:value][:key=value...]`, e.g. `x:create:error:503:count=2`.

    The bare value is the status for `error`, seconds for `latency`/`hang`/`rate_limit`, and
    the mode for `lost`; a second bare value after an error status is the error kind
    (`mastodon:create:error:502:html`). `rate` takes `0.3` or `30%`, seconds `2`, `2s`, `250ms`.
    """
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) < 3 or not all(parts[:3]):
        raise ConfigError(f"fault {spec!r}: expected platform:route:kind[:value][:key=value]")
    kind = parts[2]
    if kind not in KINDS:
        raise ConfigError(f"fault {spec!r}: kind {kind!r} unknown (use one of {', '.join(KINDS)})")
    data: dict[str, Any] = {"platform": parts[0], "route": parts[1], "kind": kind}
    bare = [_POSITIONAL[kind]] if kind in _POSITIONAL else []
    if kind == "error":
        bare.append("error")
    for extra in parts[3:]:
        key, eq, value = extra.partition("=")
        if not eq:
            if not bare:
                raise ConfigError(f"fault {spec!r}: unexpected value {extra!r} (use key=value)")
            if kind == "error" and not extra.isdigit() and "status" in bare:
                bare.remove("status")  # `error:html`: the kind alone, status stays 503
            key, value = bare.pop(0), extra
        elif key.strip() in bare:
            bare.remove(key.strip())
        if key.strip() in data:
            raise ConfigError(f"fault {spec!r}: {key.strip()!r} given twice")
        data[key.strip()] = value.strip()
    try:
        return rule_from_dict(data)
    except ConfigError as exc:
        detail = str(exc).removeprefix("fault: ").removeprefix("fault ")
        raise ConfigError(f"fault {spec!r}: {detail}") from None


def parse_limit(spec: str) -> tuple[str, str, int, float]:
    """`platform:route:N/WINDOW` -> (platform, route, limit, window seconds).

    WINDOW is seconds (`30/60`) or a rate unit as in `distributor.toml` (`30/5min`, `300/h`).
    """
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"limit {spec!r}: expected platform:route:N/WINDOW, e.g. x:create:3/60")
    count, _, window = parts[2].partition("/")
    try:
        limit, seconds = int(count), float(window)
    except ValueError:
        from distributor.config import parse_rate

        try:
            rate = parse_rate(parts[2])
        except ConfigError as exc:
            raise ConfigError(f"limit {spec!r}: {exc}") from None
        limit, seconds = rate.count, rate.per
    if limit < 1 or seconds <= 0:
        raise ConfigError(f"limit {spec!r}: N must be >= 1 and WINDOW > 0")
    return parts[0], parts[1], limit, seconds


class Faults:
    """The thread-safe rule list; `decide()` consumes counts as rules fire.

    `validate` (set by `Sandbox`) refuses rules for platforms or routes that do not exist, so a
    typo fails loudly instead of never firing.
    """

    def __init__(self, seed: int = 0, validate: Callable[[FaultRule], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seed = seed
        self._rng = random.Random(seed)
        self.validate = validate

    def add(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Add a rule (a FaultRule, or its fields as keywords)."""
        new = rule if rule is not None else rule_from_dict(fields)
        if self.validate is not None:
            self.validate(new)
        with self._lock:
            self._rules.append(new)
        return new

    def clear(self, platform: str | None = None) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if platform and r.platform != platform]
            if platform is None:
                self._rng = random.Random(self._seed)

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def decide(self, platform: str, route: str) -> Decision:
        if not self._rules:  # the fast path of the benchmark: no lock, no work
            return Decision()
        latency, chosen = 0.0, None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(platform, route):
                    continue
                if rule.kind != "latency" and chosen is not None:
                    continue
                if not self._fires(rule):
                    continue
                if rule.kind == "latency":
                    latency += rule.seconds
                else:
                    chosen = rule
        return Decision(latency, chosen)

    def _fires(self, rule: FaultRule) -> bool:
        if rule.rate is not None and not self._rng.random() < rule.rate:
            return False
        if rule.count is not None:
            rule.count -= 1
            if rule.count <= 0:
                self._rules.remove(rule)
        return True


@dataclass
class Window:
    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0


class RouteLimits:
    """Fixed-window limits per (platform, route, account), as X/Mastodon/Facebook count them."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._config: dict[tuple[str, str], tuple[int, float]] = {}
        self._windows: dict[tuple[str, str, str], Window] = {}
        self._now = now

    def set(self, platform: str, route: str, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ConfigError(f"limit {limit}/{window}s: limit must be >= 1 and window > 0")
        with self._lock:
            self._config[(platform, route)] = (limit, window)
            for key in [k for k in self._windows if k[:2] == (platform, route)]:
                del self._windows[key]

    def clear(self) -> None:
        with self._lock:
            self._config.clear()
            self._windows.clear()

    def limit_of(self, platform: str, route: str) -> int:
        """The configured limit of a route (0 when it has none)."""
        config = self._config.get((platform, route))
        return config[0] if config else 0

    def to_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"platform": p, "route": r, "limit": lim, "window": win}
                for (p, r), (lim, win) in self._config.items()
            ]

    def take(self, platform: str, route: str, account: str) -> tuple[Window, bool] | None:
        """Count one request; (window state, allowed) or None when the route is unlimited."""
        if not self._config:
            return None
        with self._lock:
            config = self._config.get((platform, route))
            if config is None:
                return None
            now = self._now()
            win = self._windows.get((platform, route, account))
            if win is None or now >= win.reset_at:
                win = Window(config[0], config[1], 0, now + config[1])
                self._windows[(platform, route, account)] = win
            allowed = win.used < win.limit
            if allowed:
                win.used += 1
            return Window(win.limit, win.window, win.used, win.reset_at), allowed
