"""The admin UI: a server-rendered FastAPI sub-application mounted at `/admin` (docs/admin.md).

`mount(app, settings, store)` is what the web app factory calls. With no `[admin]` account
or token that can sign in, nothing is mounted (the reason is logged), so a webhook-only
deployment never exposes a login page; accounts without a session secret are a ConfigError.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.store.store import Store

PREFIX = "/admin"
log = logging.getLogger(__name__)


def mount(app: Any, settings: Settings, store: Store, *, clock: Any = None) -> bool:
    """Mount the admin UI on `app` (a FastAPI/Starlette app); False when it is not configured.

    Raises ConfigError for a malformed `[admin]` table.
    """
    from distributor.web.admin.options import admin_options

    options = admin_options(settings)
    if not options.enabled:
        log.warning(
            "admin UI not mounted: no [admin] user has a password hash in the environment "
            "and no token_env is set (docs/admin.md)"
        )
        return False
    from distributor.web.admin.app import build

    app.mount(PREFIX, build(settings, store, options, clock=clock), name="admin")
    return True
