"""`distributor.toml` + `.env` -> frozen `Settings` and `Channel` objects, with clear errors.

Precedence for secrets and settings read from the environment: the real environment wins over
`.env`; exactly one `.env` is read (`--env-file`, else next to the config, else `./.env`; see
`distributor.envfiles`), never found by walking up parent folders. Every validation error names
the file, the channel and the key. Secret values are wrapped in `Secret` the moment they are read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributor.envfiles import EnvSource, find_env_file, load_env
from distributor.errors import ConfigError
from distributor.hashtags import stop_list
from distributor.links import DEFAULT_POLICY, LinkPolicy
from distributor.resources import packaged_path
from distributor.schedule.rules import Quiet, quiet_option, timezone_option
from distributor.secrets import Secret

DEFAULT_DATABASE = "sqlite:///distributor.db"
SANDBOX_DEFAULT_URL = "http://127.0.0.1:8900"
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
_CHANNEL_KEYS = {
    "platform",
    "template",
    "account",
    "sections",
    "tags",
    "languages",
    "exclude_sections",
    "exclude_tags",
    "utm",
    "delay",
    "review",
    "rate",
    "limit",
    "base_url",
    "enabled",
    "hashtags",
    "quiet",
    "min_gap",
    "language",
}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` posts per `per` seconds (`"50/15min"`)."""

    count: int
    per: float

    def __str__(self) -> str:
        return f"{self.count}/{self.per:g}s"


@dataclass(frozen=True, slots=True)
class Filters:
    """Routing filters; empty include-lists mean "everything"."""

    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclude_sections: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()


# Options that name the account a channel posts as (never a secret), per platform.
_ACCOUNT_OPTIONS = ("handle", "chat_id", "page_id", "author", "user_id", "account_id")


@dataclass(frozen=True, slots=True)
class Channel:
    """One account on one platform, with how articles are routed and rendered for it."""

    name: str
    platform: str
    template: str | None = None
    account: str = ""
    filters: Filters = Filters()
    utm: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    review: bool = False
    rate: Rate | None = None
    limit: int | None = None
    base_url: str | None = None
    enabled: bool = True
    hashtags: bool | int = True  # how many: true = the platform's default, false = none
    quiet: Quiet | None = None  # no posts in these wall-clock hours (newsroom time zone)
    min_gap: float = 0.0  # seconds between two posts of this channel, across all workers
    language: str | None = None  # for articles whose language is not known
    options: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)  # role -> env var name

    @property
    def account_key(self) -> str:
        """The key per-account order and rate limits are kept under: `platform:<who>`.

        `<who>` is the channel's `account`, else the option naming the account (handle, chat_id,
        page_id, author, user_id), else the names of its credential variables (two channels with
        the same token share one account). Never a secret value.
        """
        if self.account:
            return self.account
        who = next((self.options[o] for o in _ACCOUNT_OPTIONS if self.options.get(o)), None)
        who = who or "+".join(sorted(self.credentials.values())) or self.name
        instance = self.options.get("instance") or self.base_url
        return f"{self.platform}:{instance}:{who}" if instance else f"{self.platform}:{who}"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs, loaded once. Secrets stay in `env` until asked for."""

    path: Path | None
    channels: tuple[Channel, ...]
    templates_dir: Path | None = None
    database_url: str = DEFAULT_DATABASE
    sandbox_url: str | None = None
    timezone: str = "UTC"  # the newsroom's: quiet hours and `--at` without an offset
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    links: LinkPolicy = DEFAULT_POLICY  # [links] strip/keep: what posted links lose
    hashtag_stop: frozenset[str] = frozenset()  # [hashtags] stop, added to the built-in list
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    env_source: EnvSource = field(default_factory=EnvSource)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "built-in configuration"

    def channel(self, name: str) -> Channel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels) or "none"
        raise ConfigError(f"{self.where}: no channel named {name!r} (channels: {known})")

    def select(self, names: tuple[str, ...] | list[str] = ()) -> tuple[Channel, ...]:
        """The named channels (all enabled ones when none are named)."""
        if names:
            return tuple(self.channel(n) for n in names)
        return tuple(c for c in self.channels if c.enabled)

    def secret(self, var: str, *, channel: str = "", key: str = "") -> Secret:
        value = self.env.get(var)
        if value is None or not value.strip():
            if self.sandbox_url:
                return Secret(f"sandbox-{var.lower()}", var)
            where = f"channel {channel!r} key {key!r}" if channel else f"key {key!r}"
            raise ConfigError(
                f"{self.where}: {where}: environment variable {var} is not set "
                f"({self.env_source.where()})"
            )
        if any(c in value.strip() for c in "\r\n\0"):
            raise ConfigError(f"{self.where}: environment variable {var} contains a line break")
        return Secret(value.strip(), var)

    def credentials(self, channel: Channel) -> dict[str, Secret]:
        return {
            role: self.secret(var, channel=channel.name, key=f"{role}_env")
            for role, var in channel.credentials.items()
        }

    def base_url(self, channel: Channel) -> str:
        """Where API calls go: the sandbox, the channel's `base_url`, or the real platform."""
        from distributor.platform import spec

        if self.sandbox_url:
            return f"{self.sandbox_url.rstrip('/')}/{channel.platform}"
        return channel.base_url or spec(channel.platform).base_url


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
    """Read and validate a `distributor.toml`; raise ConfigError naming file, channel and key."""
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
    main = _table(data.get("distributor", {}), where, "[distributor]")
    raw_channels = _table(data.get("channels", {}), where, "[channels]")
    channels = tuple(
        _channel(name, _table(t, where, f"[channels.{name}]"), where)
        for name, t in raw_channels.items()
    )
    templates = main.get("templates")
    sandbox = env.get("DISTRIBUTOR_SANDBOX_URL") or main.get("sandbox")
    if sandbox is True or sandbox == "builtin":
        sandbox = SANDBOX_DEFAULT_URL
    if sandbox is not None and not isinstance(sandbox, str):
        raise ConfigError(f"{where}: [distributor] key 'sandbox' must be a URL, true or 'builtin'")
    return Settings(
        path=cfg,
        channels=channels,
        templates_dir=(cfg.parent / _str(templates, where, "templates")) if templates else None,
        database_url=env.get("DISTRIBUTOR_DATABASE_URL")
        or _str(main.get("database", DEFAULT_DATABASE), where, "database"),
        sandbox_url=sandbox or None,
        timezone=timezone_option(main.get("timezone", "UTC"), where),
        sections={k: v for k, v in data.items() if k not in ("distributor", "channels")},
        links=LinkPolicy.from_table(data.get("links"), where),
        hashtag_stop=stop_list(data.get("hashtags"), where),
        env=env,
        env_source=source,
    )


def _channel(name: str, raw: Mapping[str, Any], where: str) -> Channel:
    from distributor.platform import spec

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: channel {name!r} key {key!r}: {problem}")

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise ConfigError(f"{where}: channel name {name!r} must be letters, digits, '_', '-', '.'")
    if "platform" not in raw:
        raise err("platform", "missing")
    try:
        pspec = spec(_str(raw["platform"], where, "platform"))
    except ConfigError as exc:
        raise err("platform", str(exc)) from None
    credentials, options = {}, {}
    for key, value in raw.items():
        if key in _CHANNEL_KEYS:
            continue
        if key.endswith("_env"):
            role = key[: -len("_env")]
            if role not in pspec.credentials + pspec.optional_credentials:
                raise err(
                    key,
                    f"{pspec.name} has no credential {role!r} "
                    f"(expected: {', '.join(r + '_env' for r in pspec.credentials)})",
                )
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                raise err(key, "must be the name of an environment variable")
            credentials[role] = value
        elif key in pspec.required_options + pspec.optional_options:
            options[key] = (
                _str(value, where, key, name) if not isinstance(value, int) else str(value)
            )
        else:
            raise err(key, "unknown key")
    for role in pspec.credentials:
        if role not in credentials:
            raise err(f"{role}_env", "missing (the name of the variable holding the secret)")
    for option in pspec.required_options:
        if option not in options:
            raise err(option, "missing")
    return Channel(
        name=name,
        platform=pspec.name,
        template=_opt_str(raw.get("template"), err, "template"),
        account=_opt_str(raw.get("account"), err, "account") or "",
        filters=Filters(**{k: _str_list(raw.get(k), err, k) for k in Filters.__slots__}),
        utm=_utm(raw.get("utm"), err),
        delay=parse_duration(raw.get("delay", 0), err, "delay"),
        review=_bool(raw.get("review", False), err, "review"),
        rate=parse_rate(raw["rate"], err) if raw.get("rate") else None,
        limit=_limit(raw.get("limit"), err),
        base_url=_opt_str(raw.get("base_url"), err, "base_url"),
        enabled=_bool(raw.get("enabled", True), err, "enabled"),
        hashtags=_hashtags(raw.get("hashtags", True), err),
        quiet=quiet_option(raw.get("quiet"), err),
        min_gap=parse_duration(raw.get("min_gap", 0), err, "min_gap"),
        language=_language(raw.get("language"), err),
        options=options,
        credentials=credentials,
    )


def _table(value: Any, where: str, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {name} must be a table")
    return value


def _str(value: Any, where: str, key: str, channel: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        prefix = f"channel {channel!r} " if channel else ""
        raise ConfigError(f"{where}: {prefix}key {key!r} must be a non-empty string")
    return value.strip()


def _opt_str(value: Any, err: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise err(key, "must be a non-empty string")
    return value.strip()


def _bool(value: Any, err: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise err(key, "must be true or false")
    return value


def _str_list(value: Any, err: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise err(key, "must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _utm(value: Any, err: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise err("utm", 'must be a table like { utm_source = "twitter" }')
    out = {}
    for k, v in value.items():
        if not isinstance(v, str | int):
            raise err(f"utm.{k}", "must be a string")
        out[k if k.startswith("utm_") else f"utm_{k}"] = str(v)
    return out


def _hashtags(value: Any, err: Any) -> bool | int:
    if isinstance(value, bool) or (isinstance(value, int) and 0 <= value <= 30):
        return value
    raise err("hashtags", "must be true, false or a number like 2")


def _language(value: Any, err: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}", value.strip()):
        raise err("language", "must be a language code like 'de' or 'en'")
    return value.strip().lower()


def _limit(value: Any, err: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise err("limit", "must be a positive integer")
    return value


def parse_duration(value: Any, err: Any = None, key: str = "delay") -> float:
    """`30`, `"30s"`, `"10m"`, `"1h"`, `"2 days"` -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value) if isinstance(value, str) else None
    if m and (m.group(2) or "s") in _UNITS:
        return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    problem = f"not a duration: {value!r} (use e.g. 30s, 10m, 1h)"
    raise err(key, problem) if err else ConfigError(problem)


def parse_rate(value: Any, err: Any = None) -> Rate:
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
    raise err("rate", problem) if err else ConfigError(problem)


_SIZE_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 1000, "kib": 1024}
_SIZE_UNITS.update({"mb": 1000**2, "mib": 1024**2})


def parse_size(value: Any, err: Any = None, key: str = "max_size") -> int:
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
