"""Who may log in to the admin UI: the `[admin]` table's variables, read from the environment.

```toml
[admin]
users = { alice = "DISTRIBUTOR_ADMIN_ALICE_HASH" }   # user -> env var holding an argon2 hash
token_env = "DISTRIBUTOR_ADMIN_TOKEN"                # optional: a bearer/login token
session_secret_env = "DISTRIBUTOR_SESSION_SECRET"    # default
session_hours = 12
secure_cookies = "auto"   # auto: Secure unless served over plain http on loopback
timezone = "Europe/Berlin"  # times on the pages (default: [distributor] timezone, else UTC)
```

The table is validated when the configuration is loaded (`distributor.config.tables`). Only
variable *names* live in the TOML; hashes, the token and the secret come from the environment
or `.env`, read here. Every problem is one ConfigError line naming the file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from distributor.config import Settings
from distributor.errors import ConfigError
from distributor.secrets import Secret


@dataclass(frozen=True)
class AdminOptions:
    """Who may log in and how sessions are signed (secret values wrapped in Secret)."""

    users: Mapping[str, str] = field(default_factory=dict, repr=False)  # user -> argon2 hash
    token: Secret | None = None
    session_secret: Secret | None = None
    session_seconds: int = 12 * 3600
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    timezone: str = "UTC"  # an IANA name (checked at load): the pages show times in it

    @property
    def enabled(self) -> bool:
        """Nobody can log in without an account or a token: then the admin UI is not mounted.
        (Accounts without a session secret are a ConfigError.)"""
        return bool(self.users or self.token) and self.session_secret is not None


def admin_options(settings: Settings) -> AdminOptions:
    """The `[admin]` accounts, token and session secret (none configured: admin disabled)."""
    where, conf = settings.where, settings.admin

    def env(name: str) -> str | None:
        value = settings.env.get(name, "").strip()
        return value or None

    users = _users(settings)
    token = env(conf.token_env) if conf.token_env else None
    if token is not None and len(token) < 16:
        raise ConfigError(
            f"{where}: [admin] token_env: {conf.token_env} must be at least 16 characters"
        )
    secret_var = conf.session_secret_env
    secret = env(secret_var)
    if secret is not None and len(secret) < 32:
        raise ConfigError(f"{where}: [admin]: {secret_var} must be at least 32 characters")
    if secret is None and (users or token):
        raise ConfigError(
            f"{where}: [admin]: set {secret_var} to sign admin sessions "
            f"(`distributor admin new-secret` makes one; {settings.env_source.where()})"
        )
    return AdminOptions(
        users=users,
        token=Secret(token, conf.token_env) if token and conf.token_env else None,
        session_secret=Secret(secret, secret_var) if secret else None,
        session_seconds=conf.session_seconds,
        secure_cookies=conf.secure_cookies,
        timezone=conf.timezone or settings.timezone,
    )


def _users(settings: Settings) -> dict[str, str]:
    """user -> argon2 hash, for every user whose variable is set."""
    users: dict[str, str] = {}
    for name, var in settings.admin.users.items():
        hashed = settings.env.get(var, "").strip()
        if not hashed:
            continue  # no hash in the environment: that account cannot log in
        if not hashed.startswith("$argon2"):
            raise ConfigError(
                f"{settings.where}: [admin] key 'users.{name}': {var} must hold an argon2 hash "
                "(make one with `distributor admin hash-password`), not a password"
            )
        users[name] = hashed
    return users
