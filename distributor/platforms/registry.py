"""Builds adapters: the channel's platform spec names the class, the settings give it its
credentials, base URL and session.

What a platform is (limits, options, credentials, ...) is `distributor.platform`; `PlatformSpec`,
`BUILTIN`, `platforms` and `spec` are re-exported here for older callers and plugins. Adapter
modules (and the SDKs they import) are loaded only when a channel of that platform is actually sent
to, so `distributor --help` and `preview` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from distributor.platform import BUILTIN, PlatformSpec, load, platforms, spec

if TYPE_CHECKING:
    import requests

    from distributor.config import Channel, Settings
    from distributor.platforms.base import Adapter


def adapter_class(name: str) -> type[Adapter]:
    cls: type[Adapter] = load(spec(name).adapter)
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


__all__ = ["BUILTIN", "PlatformSpec", "adapter_class", "build_adapter", "platforms", "spec"]
