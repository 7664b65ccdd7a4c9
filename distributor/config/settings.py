"""`Settings`: everything a command needs from distributor.toml and the environment, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from distributor.config.channels import Channel
from distributor.config.tables import (
    AdminSettings,
    AlertSettings,
    Policy,
    WatchSettings,
    WebhookSettings,
)
from distributor.envfiles import EnvSource
from distributor.errors import ConfigError
from distributor.links import DEFAULT_POLICY, LinkPolicy
from distributor.platform import spec
from distributor.secrets import Secret

DEFAULT_DATABASE = "sqlite:///distributor.db"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs, loaded once. Secrets stay in `env` until asked for."""

    path: Path | None
    channels: tuple[Channel, ...]
    templates_dir: Path | None = None
    database_url: str = DEFAULT_DATABASE
    database_pool: int | None = None  # PostgreSQL connections kept per process; None: by threads
    sandbox_url: str | None = None
    timezone: str = "UTC"  # the newsroom's: quiet hours and `--at` without an offset
    links: LinkPolicy = DEFAULT_POLICY  # [links] strip/keep: what posted links lose
    hashtag_stop: frozenset[str] = frozenset()  # [hashtags] stop, added to the built-in list
    dispatch: Policy = field(default_factory=Policy)
    watch: WatchSettings = field(default_factory=WatchSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
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
        if self.sandbox_url:
            return f"{self.sandbox_url.rstrip('/')}/{channel.platform}"
        return channel.base_url or spec(channel.platform).base_url
