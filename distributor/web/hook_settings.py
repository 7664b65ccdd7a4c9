"""The webhook's signing keys, read from the variables the `[webhook]` table names.

    [webhook]
    secrets_env = ["DISTRIBUTOR_WEBHOOK_SECRET", "DISTRIBUTOR_WEBHOOK_SECRET_OLD"]
    tolerance = "5m"      # how far webhook-timestamp may be from the server's clock
    max_body = "1MB"      # a bigger request body is refused with 413
    fetch = true          # accept {"url": "..."} (fetched under the [watch] host rules)

The table is validated when the configuration is loaded (`distributor.config.tables`). Only
variable NAMES live in the TOML; the secrets (`whsec_...`) come from the environment or `.env`.
A listed variable that is unset is skipped (rotation: remove the old one when every sender has
the new one); with none set, the webhook answers 503.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from distributor.config.tables import WEBHOOK_SECRET_ENV
from distributor.errors import ConfigError
from distributor.secrets import Secret
from distributor.web.signing import parse_secret

if TYPE_CHECKING:
    from distributor.config import Settings


@dataclass(frozen=True)
class HookSettings:
    """The keys found (bytes, first = current) and every variable looked at, set or not."""

    keys: tuple[bytes, ...] = field(default=(), repr=False)
    names: tuple[str, ...] = WEBHOOK_SECRET_ENV

    @property
    def enabled(self) -> bool:
        return bool(self.keys)


def hook_settings(settings: Settings) -> HookSettings:
    """The signing keys of the variables `[webhook] secrets_env` names."""
    names = settings.webhook.secrets_env
    keys = tuple(_key(settings, name) for name in names if settings.env.get(name))
    return HookSettings(keys=keys, names=names)


def _key(settings: Settings, name: str) -> bytes:
    secret = Secret(settings.env[name].strip(), name)  # registered for log scrubbing
    try:
        return parse_secret(secret.reveal(), name)
    except ConfigError as exc:
        raise ConfigError(f"{settings.where}: [webhook] secrets_env: {exc}") from None
