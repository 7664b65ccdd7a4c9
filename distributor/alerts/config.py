"""The `[alerts]` targets: URLs from the TOML plus those held in environment variables.

The table itself is validated at load (`distributor.config.tables.AlertSettings`); only the
URLs named by `targets_env` are read here, when alerts are checked, so a command that sends
no alerts never fails for an alert variable that only the worker's environment has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distributor.errors import ConfigError
from distributor.secrets import Secret

if TYPE_CHECKING:
    from distributor.config import Settings


def alert_targets(settings: Settings) -> tuple[Secret, ...]:
    """Every target URL: `targets`, then the values of the `targets_env` variables."""
    out = list(settings.alerts.targets)
    for var in settings.alerts.targets_env:
        value = settings.env.get(var, "").strip()
        if not value:
            raise ConfigError(
                f"{settings.where}: [alerts] key 'targets_env': environment variable {var} "
                f"is not set ({settings.env_source.where()})"
            )
        out.append(Secret(value, var))
    return tuple(out)
