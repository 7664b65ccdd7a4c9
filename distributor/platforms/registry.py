"""The platforms `distributor` knows: their options, credentials and lazily imported adapters.

Adapter modules (and the SDKs they import) are loaded only when a channel of that platform is
actually sent to, so `distributor --help` and `preview` stay fast. Third-party adapters register
under the entry-point group `distributor.platforms` (name -> "module:Class").
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distributor.errors import ConfigError
from distributor.platforms.base import Limits

if TYPE_CHECKING:
    import requests

    from distributor.config import Channel, Settings
    from distributor.platforms.base import Adapter


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Static facts about a platform that config validation and rendering need."""

    name: str
    target: str  # "module:Class" of the adapter
    limits: Limits
    base_url: str  # the real API's base URL (overridable per channel with `base_url`)
    required_options: tuple[str, ...] = ()
    optional_options: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()  # roles that must be set (`<role>_env = "VAR"`)
    optional_credentials: tuple[str, ...] = ()
    template_ext: str = "txt"


BUILTIN: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec(
            "x",
            "distributor.platforms.x:XAdapter",
            Limits(280),
            "https://api.twitter.com",
            optional_options=("upload_base_url", "user_id", "handle"),
            credentials=("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
        ),
        PlatformSpec(
            "facebook",
            "distributor.platforms.facebook:FacebookAdapter",
            Limits(63206),
            "https://graph.facebook.com",
            required_options=("page_id",),
            optional_options=("graph_version",),
            credentials=("page_token",),
        ),
        PlatformSpec(
            "mastodon",
            "distributor.platforms.mastodon:MastodonAdapter",
            Limits(500),
            "https://mastodon.social",
            optional_options=("instance", "visibility", "account_id"),
            credentials=("access_token",),
        ),
        PlatformSpec(
            "bluesky",
            "distributor.platforms.bluesky:BlueskyAdapter",
            Limits(300),
            "https://bsky.social",
            required_options=("handle",),
            optional_options=("embed", "link_text"),
            credentials=("app_password",),
        ),
        PlatformSpec(
            "telegram",
            "distributor.platforms.telegram:TelegramAdapter",
            Limits(4096, caption=1024),
            "https://api.telegram.org",
            required_options=("chat_id",),
            optional_options=("username",),
            credentials=("bot_token",),
            template_ext="html",
        ),
        PlatformSpec(
            "linkedin",
            "distributor.platforms.linkedin:LinkedInAdapter",
            Limits(3000),
            "https://api.linkedin.com",
            required_options=("author",),
            optional_options=("version",),
            credentials=("access_token",),
        ),
        PlatformSpec(
            "threads",
            "distributor.platforms.threads:ThreadsAdapter",
            Limits(500),
            "https://graph.threads.net",
            required_options=("user_id",),
            credentials=("access_token",),
        ),
    )
}


def _plugins() -> dict[str, PlatformSpec]:
    from importlib.metadata import entry_points  # ~0.1 s to import: only when a plugin is named

    found: dict[str, PlatformSpec] = {}
    for ep in entry_points(group="distributor.platforms"):
        cls = ep.load()
        spec = getattr(cls, "spec", None)
        if isinstance(spec, PlatformSpec):
            found[ep.name] = spec
    return found


@functools.cache  # scanning entry points costs milliseconds; rendering asks per post
def platforms() -> Mapping[str, PlatformSpec]:
    """Every known platform: entry-point plugins, then the built-ins (a built-in name always
    means the built-in platform)."""
    return {**_plugins(), **BUILTIN}


def spec(name: str) -> PlatformSpec:
    if name in BUILTIN:  # no entry-point scan (and no importlib.metadata) for built-ins
        return BUILTIN[name]
    try:
        return platforms()[name]
    except KeyError:
        known = ", ".join(sorted(platforms()))
        raise ConfigError(f"unknown platform {name!r} (known: {known})") from None


def adapter_class(name: str) -> type[Adapter]:
    module_name, _, attr = spec(name).target.partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module_name), attr)
    return cls


def build_adapter(
    channel: Channel,
    settings: Settings,
    *,
    session: requests.Session | None = None,
    timeout: float = 10.0,
) -> Adapter:
    """Construct the adapter for `channel`, pointed at the sandbox when settings say so."""
    cls: Any = adapter_class(channel.platform)
    if session is None and settings.sandbox_url:
        from distributor.platforms.http import sandbox_session

        session = sandbox_session(settings.sandbox_url)
    adapter: Adapter = cls(
        channel,
        settings.credentials(channel),
        base_url=settings.base_url(channel),
        session=session,
        timeout=timeout,
    )
    if hasattr(adapter, "sessions"):  # it keeps login sessions: in the store, for every process
        from distributor.platforms.sessions import session_cache

        adapter.sessions = session_cache(settings.database_url)
    return adapter
