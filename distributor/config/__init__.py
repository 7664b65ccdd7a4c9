"""`distributor.toml` + `.env` -> frozen `Settings` and `Channel` objects, with clear errors.

Every table is parsed and validated when the file is loaded: `[distributor]`, `[channels.*]`
(`channels.py`), `[links]`, `[hashtags]` and the feature tables (`tables.py`). An unknown table
or key is an error with a "did you mean" for a near miss, never silently ignored.

Precedence for secrets and settings read from the environment: the real environment wins over
`.env`; exactly one `.env` is read (`--env-file`, else next to the config, else `./.env`; see
`distributor.envfiles`), never found by walking up parent folders. Every validation error names
the file, the channel or table, and the key. Secret values are wrapped in `Secret` the moment
they are read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from distributor.config.channels import Channel, RouteFilters, parse_channel
from distributor.config.settings import DEFAULT_DATABASE, Settings
from distributor.config.tables import (
    AdminSettings,
    AlertSettings,
    Policy,
    WatchSettings,
    WebhookSettings,
    parse_admin,
    parse_alerts,
    parse_dispatch,
    parse_hashtags,
    parse_links,
    parse_watch,
    parse_webhook,
)
from distributor.config.values import (
    Err,
    Rate,
    check_keys,
    parse_duration,
    parse_rate,
    parse_size,
    suggest,
    table,
    table_err,
    text,
)
from distributor.envfiles import EnvSource, find_env_file, load_env
from distributor.errors import ConfigError
from distributor.resources import packaged_path
from distributor.schedule.rules import timezone_option

__all__ = [
    "DEFAULT_DATABASE",
    "SANDBOX_DEFAULT_URL",
    "TABLES",
    "AdminSettings",
    "AlertSettings",
    "Channel",
    "Policy",
    "Rate",
    "RouteFilters",
    "Settings",
    "WatchSettings",
    "WebhookSettings",
    "default_config_path",
    "load_config",
    "parse_duration",
    "parse_rate",
    "parse_size",
]
SANDBOX_DEFAULT_URL = "http://127.0.0.1:8900"
# Every table distributor.toml may have; any other is a mistake (a near miss gets a suggestion).
TABLES = frozenset(
    {
        "distributor",
        "channels",
        "links",
        "hashtags",
        "dispatch",
        "watch",
        "webhook",
        "admin",
        "alerts",
    }
)
T = TypeVar("T")
_MAIN_KEYS = ("database", "database_pool", "templates", "sandbox", "timezone")


def default_config_path() -> Path:
    """./distributor.toml if present, else the packaged example (sandbox) configuration."""
    local = Path("distributor.toml")
    return local if local.is_file() else packaged_path("examples/distributor.toml")


def load_config(
    path: str | Path | None = None,
    *,
    env_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate a `distributor.toml`; raise ConfigError naming file, table and key."""
    cfg = Path(path) if path is not None else default_config_path()
    where = str(cfg)
    try:
        data = tomllib.loads(cfg.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    source = find_env_file(cfg, env_file)
    env = load_env(source.read, environ)
    return _settings(data, cfg, env, source)


def _settings(
    data: dict[str, Any], cfg: Path, env: Mapping[str, str], source: EnvSource
) -> Settings:
    where = str(cfg)
    for name in data:
        if name not in TABLES:
            raise ConfigError(f"{where}: unknown table [{name}]" + suggest(name, TABLES, "[{}]"))
    main = table(data.get("distributor", {}), where, "[distributor]")
    err = table_err(where, "distributor")
    check_keys(main, _MAIN_KEYS, err)
    raw_channels = table(data.get("channels", {}), where, "[channels]")
    channels = tuple(
        parse_channel(name, table(t, where, f"[channels.{name}]"), where)
        for name, t in raw_channels.items()
    )
    templates = main.get("templates")
    return Settings(
        path=cfg,
        channels=channels,
        templates_dir=(cfg.parent / text(templates, err, "templates")) if templates else None,
        database_url=env.get("DISTRIBUTOR_DATABASE_URL")
        or text(main.get("database", DEFAULT_DATABASE), err, "database"),
        database_pool=_pool(main.get("database_pool"), err),
        sandbox_url=_sandbox(env.get("DISTRIBUTOR_SANDBOX_URL") or main.get("sandbox"), where),
        timezone=timezone_option(main.get("timezone", "UTC"), where),
        links=_feature(data, "links", parse_links, where),
        hashtag_stop=_feature(data, "hashtags", parse_hashtags, where),
        dispatch=_feature(data, "dispatch", parse_dispatch, where),
        watch=_feature(data, "watch", parse_watch, where),
        webhook=_feature(data, "webhook", parse_webhook, where),
        admin=_feature(data, "admin", parse_admin, where),
        alerts=_feature(data, "alerts", parse_alerts, where),
        env=env,
        env_source=source,
    )


def _feature(
    data: Mapping[str, Any], name: str, parse: Callable[[Mapping[str, Any], str], T], where: str
) -> T:
    """An optional table's settings (its defaults when the table is absent)."""
    return parse(table(data.get(name, {}), where, f"[{name}]"), where)


def _pool(value: Any, err: Err) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise err("database_pool", "must be a whole number >= 1 (connections kept per process)")
    return value


def _sandbox(value: Any, where: str) -> str | None:
    if value is True or value == "builtin":
        return SANDBOX_DEFAULT_URL
    if value is not None and value is not False and not isinstance(value, str):
        raise ConfigError(f"{where}: [distributor] key 'sandbox' must be a URL, true or 'builtin'")
    return value or None
