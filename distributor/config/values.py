"""Value parsers shared by every table of distributor.toml: durations, rates, sizes, key checks.

Each parser takes an `err(key, problem) -> ConfigError` factory (or None for a bare message), so
the one-line error names the file, the table or channel, and the key wherever the value sits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from distributor.errors import ConfigError

Err = Callable[[str, str], ConfigError]
VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # an environment variable name
_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_SIZE_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 1000, "kib": 1024}
_SIZE_UNITS.update({"mb": 1000**2, "mib": 1024**2})


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` posts per `per` seconds (`"50/15min"`)."""

    count: int
    per: float

    def __str__(self) -> str:
        return f"{self.count}/{self.per:g}s"


def suggest(name: str, known: Iterable[str], shape: str = "{!r}") -> str:
    """` (did you mean 'x'?)` for a near miss, else ` (known: a, b, c)`."""
    import difflib  # only for a mistake: every CLI call loads the configuration

    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {shape.format(close[0])}?)"
    return f" (known: {', '.join(shape.format(n) for n in names)})"


def check_keys(raw: Mapping[str, Any], known: Iterable[str], err: Err) -> None:
    """Refuse the first key of `raw` not in `known`, with a "did you mean" for a near miss."""
    names = set(known)
    for key in raw:
        if key not in names:
            raise err(key, "unknown key" + suggest(key, names))


def table_err(where: str, table: str) -> Err:
    """The error factory of `[table]`: `FILE: [table] key 'k': problem`."""

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: [{table}] key {key!r}: {problem}")

    return err


def table(value: Any, where: str, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {name} must be a table")
    return value


def text(value: Any, err: Err, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise err(key, "must be a non-empty string")
    return value.strip()


def opt_text(value: Any, err: Err, key: str) -> str | None:
    return None if value is None else text(value, err, key)


def flag(value: Any, err: Err, key: str) -> bool:
    if not isinstance(value, bool):
        raise err(key, "must be true or false")
    return value


def strings(value: Any, err: Err, key: str) -> tuple[str, ...]:
    """A list of non-empty strings (one string alone is a list of one)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise err(key, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def var_name(value: Any, err: Err, key: str) -> str:
    if not isinstance(value, str) or not VAR.fullmatch(value):
        raise err(key, "must be the name of an environment variable")
    return value


def parse_duration(value: Any, err: Err | None = None, key: str = "delay") -> float:
    """`30`, `"30s"`, `"10m"`, `"1h"`, `"2 days"` -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value) if isinstance(value, str) else None
    if m and (m.group(2) or "s") in _UNITS:
        return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    problem = f"not a duration: {value!r} (use e.g. 30s, 10m, 1h)"
    raise err(key, problem) if err else ConfigError(problem)


def parse_rate(value: Any, err: Err | None = None, key: str = "rate") -> Rate:
    """`"50/15min"`, `"20/min"`, `"1/s"` -> Rate."""
    m = (
        re.fullmatch(r"\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*([a-z]+)\s*", value)
        if isinstance(value, str)
        else None
    )
    if m and m.group(3) in _UNITS and int(m.group(1)) > 0:
        per = float(m.group(2) or 1) * _UNITS[m.group(3)]
        if per > 0:
            return Rate(int(m.group(1)), per)
    problem = f'not a rate: {value!r} (use e.g. "50/15min", "20/min")'
    raise err(key, problem) if err else ConfigError(problem)


def parse_size(value: Any, err: Err | None = None, key: str = "max_size") -> int:
    """`1048576`, `"512 KiB"`, `"1MB"` (10^6), `"1 MiB"` (2^20) -> bytes (at least 1)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = (
        re.fullmatch(r"\s*(\d+)\s*([a-z]*)\s*", value, re.IGNORECASE)
        if isinstance(value, str)
        else None
    )
    if m and int(m.group(1)) > 0 and m.group(2).lower() in _SIZE_UNITS:
        return int(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
    problem = f"not a size: {value!r} (use e.g. 1MB, 512 KiB or a byte count)"
    raise err(key, problem) if err else ConfigError(problem)
