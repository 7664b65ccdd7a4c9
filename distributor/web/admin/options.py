"""The `[admin]` table of distributor.toml, validated: accounts, token, session secret.

```toml
[admin]
users = { alice = "DISTRIBUTOR_ADMIN_ALICE_HASH" }   # user -> env var holding an argon2 hash
token_env = "DISTRIBUTOR_ADMIN_TOKEN"                # optional: a bearer/login token
session_secret_env = "DISTRIBUTOR_SESSION_SECRET"    # default
session_hours = 12
secure_cookies = "auto"   # auto: Secure unless served over plain http on loopback
```

Only variable *names* live in the TOML; hashes, the token and the secret come from the
environment or `.env`. Every problem is one ConfigError line naming the file and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from distributor.config import Settings
from distributor.errors import ConfigError
from distributor.secrets import Secret

SESSION_SECRET_ENV = "DISTRIBUTOR_SESSION_SECRET"
_KEYS = {"users", "token_env", "session_secret_env", "session_hours", "secure_cookies"}
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclass(frozen=True)
class AdminOptions:
    """Who may log in and how sessions are signed (secret values wrapped in Secret)."""

    users: Mapping[str, str] = field(default_factory=dict, repr=False)  # user -> argon2 hash
    token: Secret | None = None
    session_secret: Secret | None = None
    session_seconds: int = 12 * 3600
    secure_cookies: Literal["auto", "always", "never"] = "auto"

    @property
    def enabled(self) -> bool:
        """Nobody can log in without an account or a token: then the admin UI is not mounted.
        (Accounts without a session secret are a ConfigError.)"""
        return bool(self.users or self.token) and self.session_secret is not None


def admin_options(settings: Settings) -> AdminOptions:
    """The validated `[admin]` table (empty table: admin disabled)."""
    where = settings.where
    raw = settings.sections.get("admin", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: [admin] must be a table")
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(f"{where}: [admin] key {key!r}: unknown key")

    def var(key: str, value: Any) -> str:
        if not isinstance(value, str) or not _VAR.fullmatch(value):
            raise ConfigError(f"{where}: [admin] key {key!r}: must be an environment variable name")
        return value

    def env(name: str) -> str | None:
        value = settings.env.get(name, "").strip()
        return value or None

    users = _users(raw.get("users", {}), where, var, env)
    token_var = var("token_env", raw["token_env"]) if "token_env" in raw else None
    token = env(token_var) if token_var else None
    if token is not None and len(token) < 16:
        raise ConfigError(f"{where}: [admin] token_env: {token_var} must be at least 16 characters")
    secret_var = var("session_secret_env", raw.get("session_secret_env", SESSION_SECRET_ENV))
    secret = env(secret_var)
    if secret is not None and len(secret) < 32:
        raise ConfigError(f"{where}: [admin]: {secret_var} must be at least 32 characters")
    if secret is None and (users or token):
        raise ConfigError(
            f"{where}: [admin]: set {secret_var} to sign admin sessions "
            f"(`distributor admin new-secret` makes one; {settings.env_source.where()})"
        )
    hours = raw.get("session_hours", 12)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
        raise ConfigError(f"{where}: [admin] key 'session_hours': must be a number in (0, 720]")
    secure = raw.get("secure_cookies", "auto")
    if secure is True or secure is False:
        secure = "always" if secure else "never"
    if secure not in ("auto", "always", "never"):
        raise ConfigError(f"{where}: [admin] key 'secure_cookies': must be auto, always or never")
    return AdminOptions(
        users=users,
        token=Secret(token, token_var) if token and token_var else None,
        session_secret=Secret(secret, secret_var) if secret else None,
        session_seconds=int(hours * 3600),
        secure_cookies=secure,
    )


def _users(raw: Any, where: str, var: Any, env: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: [admin] key 'users': must be a table like {{ alice = \"VAR\" }}"
        )
    users: dict[str, str] = {}
    for name, value in raw.items():
        key = f"users.{name}"
        if not _USER.fullmatch(name):
            raise ConfigError(f"{where}: [admin] key {key!r}: user names are letters, digits, _.@-")
        hashed = env(var(key, value))
        if hashed is None:
            continue  # no hash in the environment: that account cannot log in
        if not hashed.startswith("$argon2"):
            raise ConfigError(
                f"{where}: [admin] key {key!r}: {value} must hold an argon2 hash "
                "(make one with `distributor admin hash-password`), not a password"
            )
        users[name] = hashed
    return users
