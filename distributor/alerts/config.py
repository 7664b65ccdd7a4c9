"""The `[alerts]` table of distributor.toml, validated into `AlertSettings`.

[alerts]
targets = ["json://alerts.internal:8080/distributor"]   # Apprise URLs WITHOUT secrets
targets_env = ["ALERT_SMTP_URL", "ALERT_SLACK_URL"]    # names of env vars holding URLs
admin_url = "https://distributor.example.org/admin"     # linked from every alert
stuck_after = "15m"          # a due delivery not sent after this long is stuck
failure_rate = "10/15min"    # failed tries (and, separately, 429s) per channel per window
heartbeat_timeout = "60s"    # a worker silent this long is presumed dead
remind_every = "4h"          # remind about a still-open incident ("0" = never)
check_every = "30s"          # how often each worker runs the check
forget_workers_after = "24h" # a dead worker's row (and its incident) is dropped then
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from distributor.config import Rate, parse_duration, parse_rate
from distributor.errors import ConfigError
from distributor.secrets import Secret

if TYPE_CHECKING:
    from distributor.config import Settings

_DURATIONS = {
    "stuck_after": 900.0,
    "heartbeat_timeout": 60.0,
    "remind_every": 4 * 3600.0,
    "check_every": 30.0,
    "forget_workers_after": 86400.0,
}
DEFAULT_RATE = Rate(10, 900.0)
KEYS = {"targets", "targets_env", "admin_url", "failure_rate", *_DURATIONS}


@dataclass(frozen=True)
class AlertSettings:
    targets: tuple[Secret, ...] = ()
    admin_url: str = ""
    stuck_after: float = 900.0
    failure_rate: Rate = DEFAULT_RATE
    heartbeat_timeout: float = 60.0
    remind_every: float = 4 * 3600.0
    check_every: float = 30.0
    forget_workers_after: float = 86400.0


def alert_settings(settings: Settings) -> AlertSettings:
    """The `[alerts]` settings (all defaults, no targets, when the table is absent)."""
    raw: Mapping[str, Any] = settings.sections.get("alerts", {})
    where = f"{settings.where}: [alerts]"

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where} key {key!r}: {problem}")

    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    durations = {k: parse_duration(raw.get(k, d), err, k) for k, d in _DURATIONS.items()}
    admin = raw.get("admin_url", "")
    if not isinstance(admin, str):
        raise err("admin_url", "must be a URL string")
    return AlertSettings(
        targets=_plain_targets(raw.get("targets", []), err) + _env_targets(raw, settings, err),
        admin_url=admin.strip(),
        failure_rate=parse_rate(raw.get("failure_rate", "10/15min"), err),
        **durations,
    )


def _strings(value: Any, err: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise err(key, "must be a list of strings")
    return [v.strip() for v in value]


def _plain_targets(value: Any, err: Any) -> tuple[Secret, ...]:
    """URLs written in the TOML: refused when they carry a password (use targets_env)."""
    out = []
    for i, url in enumerate(_strings(value, err, "targets")):
        try:
            has_password = urlsplit(url).password is not None
        except ValueError:
            has_password = False
        if has_password:
            raise err(
                "targets",
                f"entry {i + 1} has a password in it; put the URL in an environment variable "
                "and name it in targets_env",
            )
        out.append(Secret(url, f"alerts.targets[{i + 1}]"))
    return tuple(out)


def _env_targets(raw: Mapping[str, Any], settings: Settings, err: Any) -> tuple[Secret, ...]:
    """URLs from the environment (secrets: SMTP passwords, Slack and Telegram tokens)."""
    out = []
    for var in _strings(raw.get("targets_env", []), err, "targets_env"):
        value = settings.env.get(var, "").strip()
        if not value:
            raise err(
                "targets_env",
                f"environment variable {var} is not set ({settings.env_source.where()})",
            )
        out.append(Secret(value, var))
    return tuple(out)
