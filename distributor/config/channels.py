"""`[channels.NAME]` tables -> frozen `Channel` objects; platform keys checked against the spec."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from distributor.config.values import (
    Err,
    Rate,
    flag,
    opt_text,
    parse_duration,
    parse_rate,
    strings,
    suggest,
    text,
    var_name,
)
from distributor.errors import ConfigError
from distributor.platform import spec
from distributor.schedule.rules import Quiet, quiet_option

# The keys every channel may have, whatever its platform.
COMMON_KEYS = frozenset(
    {
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
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Options that name the account a channel posts as (never a secret), per platform.
_ACCOUNT_OPTIONS = ("handle", "chat_id", "page_id", "author", "user_id", "account_id")


@dataclass(frozen=True, slots=True)
class RouteFilters:
    """Which articles a channel gets; empty include-lists mean "everything"."""

    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclude_sections: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Channel:
    """One account on one platform, with how articles are routed and rendered for it."""

    name: str
    platform: str
    template: str | None = None
    account: str = ""
    filters: RouteFilters = RouteFilters()
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


def parse_channel(name: str, raw: Mapping[str, Any], where: str) -> Channel:
    """Validate one `[channels.NAME]` table; ConfigError naming file, channel and key."""

    def err(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: channel {name!r} key {key!r}: {problem}")

    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: channel name {name!r} must be letters, digits, '_', '-', '.'")
    if "platform" not in raw:
        raise err("platform", "missing")
    try:
        pspec = spec(text(raw["platform"], err, "platform"))
    except ConfigError as exc:
        raise err("platform", str(exc)) from None
    roles = pspec.credentials + pspec.optional_credentials
    option_names = pspec.required_options + pspec.optional_options
    credentials, options = {}, {}
    for key, value in raw.items():
        if key in COMMON_KEYS:
            continue
        if key.endswith("_env"):
            role = key[: -len("_env")]
            if role not in roles:
                expected = {r + "_env" for r in roles}
                raise err(key, f"{pspec.name} has no credential {role!r}" + suggest(key, expected))
            credentials[role] = var_name(value, err, key)
        elif key in option_names:
            options[key] = str(value) if isinstance(value, int) else text(value, err, key)
        else:
            raise err(key, "unknown key" + suggest(key, {*COMMON_KEYS, *option_names}))
    for role in pspec.credentials:
        if role not in credentials:
            raise err(f"{role}_env", "missing (the name of the variable holding the secret)")
    for option in pspec.required_options:
        if option not in options:
            raise err(option, "missing")
    return _channel(name, pspec.name, raw, err, options, credentials)


def _channel(
    name: str,
    platform: str,
    raw: Mapping[str, Any],
    err: Err,
    options: dict[str, str],
    credentials: dict[str, str],
) -> Channel:
    filters = {k: strings(raw.get(k), err, k) for k in RouteFilters.__slots__}
    return Channel(
        name=name,
        platform=platform,
        template=opt_text(raw.get("template"), err, "template"),
        account=opt_text(raw.get("account"), err, "account") or "",
        filters=RouteFilters(**filters),
        utm=_utm(raw.get("utm"), err),
        delay=parse_duration(raw.get("delay", 0), err, "delay"),
        review=flag(raw.get("review", False), err, "review"),
        rate=parse_rate(raw["rate"], err) if raw.get("rate") else None,
        limit=_limit(raw.get("limit"), err),
        base_url=opt_text(raw.get("base_url"), err, "base_url"),
        enabled=flag(raw.get("enabled", True), err, "enabled"),
        hashtags=_hashtags(raw.get("hashtags", True), err),
        quiet=quiet_option(raw.get("quiet"), err),
        min_gap=parse_duration(raw.get("min_gap", 0), err, "min_gap"),
        language=_language(raw.get("language"), err),
        options=options,
        credentials=credentials,
    )


def _utm(value: Any, err: Err) -> dict[str, str]:
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


def _hashtags(value: Any, err: Err) -> bool | int:
    if isinstance(value, bool) or (isinstance(value, int) and 0 <= value <= 30):
        return value
    raise err("hashtags", "must be true, false or a number like 2")


def _language(value: Any, err: Err) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}", value.strip()):
        raise err("language", "must be a language code like 'de' or 'en'")
    return value.strip().lower()


def _limit(value: Any, err: Err) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise err("limit", "must be a positive integer")
    return value
