"""The `[webhook]` table of distributor.toml, validated with one clear line per mistake.

    [webhook]
    secrets_env = ["DISTRIBUTOR_WEBHOOK_SECRET", "DISTRIBUTOR_WEBHOOK_SECRET_OLD"]
    tolerance = "5m"      # how far webhook-timestamp may be from the server's clock
    max_body = "1MB"      # a bigger request body is refused with 413
    fetch = true          # accept {"url": "..."} (fetched under the [watch] host rules)

Every key is optional. Only variable NAMES live in the TOML; the secrets (`whsec_...`) come
from the environment or `.env`. A listed variable that is unset is skipped (rotation: remove
the old one when every sender has the new one); with none set, the webhook answers 503.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from distributor.config import parse_duration, parse_size
from distributor.errors import ConfigError
from distributor.secrets import Secret
from distributor.web.signing import TOLERANCE, parse_secret

if TYPE_CHECKING:
    from distributor.config import Settings

SECRET_ENV = ("DISTRIBUTOR_WEBHOOK_SECRET", "DISTRIBUTOR_WEBHOOK_SECRET_OLD")
MAX_BODY = 1_000_000
_KEYS = ("secrets_env", "tolerance", "max_body", "fetch")
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class HookSettings:
    """Secrets (key bytes, first = current), their variable names, and the limits."""

    keys: tuple[bytes, ...] = field(default=(), repr=False)
    names: tuple[str, ...] = SECRET_ENV  # every variable looked at, set or not
    tolerance: float = TOLERANCE
    max_body: int = MAX_BODY
    fetch: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.keys)


def hook_settings(settings: Settings) -> HookSettings:
    """The `[webhook]` table of `settings`, secrets read from its environment."""
    where = settings.where

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: [webhook] key {key!r}: {problem}")

    raw: Any = settings.sections.get("webhook", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: [webhook] must be a table")
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(f"{where}: [webhook] unknown key {key!r} (known: {', '.join(_KEYS)})")
    names = _names(raw.get("secrets_env", list(SECRET_ENV)), err)
    fetch = raw.get("fetch", True)
    if not isinstance(fetch, bool):
        raise err("fetch", "must be true or false")
    tolerance = parse_duration(raw.get("tolerance", TOLERANCE), err, "tolerance")
    if not 1 <= tolerance <= 3600:
        raise err("tolerance", "must be between 1s and 1h")
    return HookSettings(
        keys=tuple(_key(settings, name, where) for name in names if settings.env.get(name)),
        names=names,
        tolerance=tolerance,
        max_body=parse_size(raw.get("max_body", MAX_BODY), err, "max_body"),
        fetch=fetch,
    )


def _names(value: Any, err: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise err("secrets_env", "must be a list of environment variable names")
    for name in value:
        if not isinstance(name, str) or not _VAR.fullmatch(name):
            raise err("secrets_env", f"{name!r} is not an environment variable name")
    return tuple(value)


def _key(settings: Settings, name: str, where: str) -> bytes:
    secret = Secret(settings.env[name].strip(), name)  # registered for log scrubbing
    try:
        return parse_secret(secret.reveal(), name)
    except ConfigError as exc:
        raise ConfigError(f"{where}: [webhook] secrets_env: {exc}") from None
