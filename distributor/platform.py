"""What a platform is, in one row: `PlatformSpec`, the built-in rows (`BUILTIN`) and plugins.

Everything the rest of distributor knows about a platform is read from its spec: the limits and
the length rule (`distributor.limits`), the template format (rendering), the credentials and
options (configuration), the ambiguity policy (reconcile), the adapter (registry), the emulator
and the example request (sandbox), and the docs page. Classes and functions are named as lazy
"module:attr" strings, so this module imports nothing but the standard library and `errors`:
it is on the ground floor, and loading it loads no adapter, SDK or emulator.

Plugins register under the entry-point group `distributor.platforms` (name -> "module:attr");
the object named is a `PlatformSpec`, or (older plugins) an adapter class with a `spec`.
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from distributor.errors import ConfigError

ENTRY_POINT_GROUP = "distributor.platforms"
TEXT_FORMATS = ("txt", "html")


class Ambiguity(enum.Enum):
    """What reconciliation may do when a send's outcome is unknown."""

    RESEND_WITH_KEY = "resend_with_key"  # the platform de-duplicates on our key (Mastodon)
    LOOKUP = "lookup"  # find our own post by key or content (Bluesky rkey, X, Facebook)
    HOLD = "hold"  # no key, no history: a human decides (Telegram)


@dataclass(frozen=True, slots=True)
class Limits:
    """A platform's text limits as `distributor.limits` counts them."""

    text: int
    caption: int | None = None  # a shorter limit when the post is an image caption (Telegram)
    byte_cap: int | None = None  # a cap on the UTF-8 size as well (Bluesky: 3000)
    title: int | None = None  # a separate title field this long, fitted at render (Pinterest)


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Everything a platform is. `adapter`, `counter` and `emulator` are "module:attr"."""

    name: str
    adapter: str  # the Adapter class
    limits: Limits
    counter: str  # `(text) -> int`, the platform's length rule (pure: see distributor.limits)
    base_url: str  # the real API's base URL (overridable per channel with `base_url`)
    text_format: str = "txt"  # the templates' output: "txt", or "html" (autoescaped)
    ambiguity: Ambiguity = Ambiguity.LOOKUP
    key_window: timedelta | None = None  # RESEND_WITH_KEY: how long the platform keeps a key
    hashtags: int = 3  # how many hashtags `hashtags = true` posts (a social desk's habit)
    required_options: tuple[str, ...] = ()
    optional_options: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()  # roles that must be set (`<role>_env = "VAR"`)
    optional_credentials: tuple[str, ...] = ()
    credit_in_text: bool = False  # the image credit must be in the text (no other field for it)
    requires_image: bool = False  # a post without an image is refused at plan time
    emulator: str = ""  # the sandbox's emulator class (empty: no emulator)
    example: str = ""  # the request a person would try first in the sandbox (after the prefix)
    docs: str = ""  # the docs page, relative to the project root

    def __post_init__(self) -> None:
        if self.text_format not in TEXT_FORMATS:
            raise ConfigError(
                f"platform {self.name!r}: text_format {self.text_format!r} "
                f"(known: {', '.join(TEXT_FORMATS)})"
            )

    @property
    def env_vars(self) -> tuple[str, ...]:
        """The conventional environment variable of each credential (`X_ACCESS_TOKEN`)."""
        roles = self.credentials + self.optional_credentials
        return tuple(f"{self.name}_{role}".upper() for role in roles)


def _row(
    name: str, adapter: str, emulator: str, limits: Limits, counter: str, **kw: Any
) -> PlatformSpec:
    """A built-in row: its modules are named after it (platforms/<name>, sandbox/<name>)."""
    return PlatformSpec(
        name=name,
        adapter=f"distributor.platforms.{name}:{adapter}",
        limits=limits,
        counter=f"distributor.limits:{counter}",
        emulator=f"distributor.sandbox.{name}:{emulator}",
        docs=f"docs/platforms/{name}.md",
        **kw,
    )


BUILTIN: dict[str, PlatformSpec] = {
    row.name: row
    for row in (
        _row(
            "x",
            "XAdapter",
            "XEmulator",
            Limits(280),
            "x_length",
            base_url="https://api.twitter.com",
            hashtags=2,
            optional_options=("upload_base_url", "user_id", "handle"),
            credentials=("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
            example="POST /2/tweets",
        ),
        _row(
            "facebook",
            "FacebookAdapter",
            "FacebookEmulator",
            Limits(63206),
            "utf16_units",
            base_url="https://graph.facebook.com",
            required_options=("page_id",),
            optional_options=("graph_version",),
            credentials=("page_token",),
            credit_in_text=True,
            example="POST /v21.0/{page_id}/feed",
        ),
        _row(
            "mastodon",
            "MastodonAdapter",
            "MastodonEmulator",
            Limits(500),
            "mastodon_length",
            base_url="https://mastodon.social",
            ambiguity=Ambiguity.RESEND_WITH_KEY,
            key_window=timedelta(hours=1),
            optional_options=("instance", "visibility", "account_id"),
            credentials=("access_token",),
            example="POST /api/v1/statuses",
        ),
        _row(
            "bluesky",
            "BlueskyAdapter",
            "BlueskyEmulator",
            Limits(300, byte_cap=3000),
            "graphemes",
            base_url="https://bsky.social",
            required_options=("handle",),
            optional_options=("embed", "link_text"),
            credentials=("app_password",),
            example="POST /xrpc/com.atproto.repo.createRecord",
        ),
        _row(
            "telegram",
            "TelegramAdapter",
            "TelegramEmulator",
            Limits(4096, caption=1024),
            "telegram_length",
            base_url="https://api.telegram.org",
            text_format="html",
            ambiguity=Ambiguity.HOLD,
            required_options=("chat_id",),
            optional_options=("username",),
            credentials=("bot_token",),
            example="POST /bot<TOKEN>/sendMessage",
        ),
        _row(
            "linkedin",
            "LinkedInAdapter",
            "LinkedInEmulator",
            Limits(3000),
            "utf16_units",
            base_url="https://api.linkedin.com",
            required_options=("author",),
            optional_options=("version",),
            credentials=("access_token",),
            example="POST /rest/posts",
        ),
        _row(
            "threads",
            "ThreadsAdapter",
            "ThreadsEmulator",
            Limits(500),
            "threads_length",
            base_url="https://graph.threads.net",
            required_options=("user_id",),
            credentials=("access_token",),
            example="POST /v1.0/{user_id}/threads",
        ),
        _row(
            "instagram",
            "InstagramAdapter",
            "InstagramEmulator",
            Limits(2200),
            "instagram_length",  # UTF-16 units; a hashtag beyond the 30th weighs a caption
            base_url="https://graph.facebook.com",
            required_options=("ig_user_id",),
            optional_options=("graph_version", "link_hint"),
            credentials=("access_token",),
            credit_in_text=True,
            requires_image=True,
            example="POST /v21.0/{ig_user_id}/media",
        ),
        _row(
            "pinterest",
            "PinterestAdapter",
            "PinterestEmulator",
            Limits(500, title=100),
            "utf16_units",
            base_url="https://api.pinterest.com",
            required_options=("board_id",),
            credentials=("access_token",),
            credit_in_text=True,
            requires_image=True,
            example="POST /v5/pins",
        ),
    )
}


def load(ref: str) -> Any:
    """The object a "module:attr" reference names (imports the module)."""
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _plugins() -> dict[str, PlatformSpec]:
    from importlib.metadata import entry_points  # ~0.1 s to import: only when a plugin is named

    found: dict[str, PlatformSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        row = obj if isinstance(obj, PlatformSpec) else getattr(obj, "spec", None)
        if isinstance(row, PlatformSpec):
            found[ep.name] = row
    return found


@functools.cache  # scanning entry points costs milliseconds; rendering asks per post
def platforms() -> Mapping[str, PlatformSpec]:
    """Every known platform: entry-point plugins, then the built-ins (a built-in name always
    means the built-in platform)."""
    return {**_plugins(), **BUILTIN}


def spec(name: str) -> PlatformSpec:
    """The platform called `name`; ConfigError naming the known ones when there is none."""
    if name in BUILTIN:  # no entry-point scan (and no importlib.metadata) for built-ins
        return BUILTIN[name]
    try:
        return platforms()[name]
    except KeyError:
        known = ", ".join(sorted(platforms()))
        raise ConfigError(f"unknown platform {name!r} (known: {known})") from None


__all__ = ["BUILTIN", "Ambiguity", "Limits", "PlatformSpec", "load", "platforms", "spec"]
