"""The web app factory: webhook, operator endpoints and (when configured) the admin UI.

    app = create_app(load_config("distributor.toml"))     # served by `distributor serve`

The store is opened here unless one is passed in (then the caller closes it); an app that
opened its own store closes it on shutdown. The OpenAPI schema is at `/openapi.json` (no docs UI:
it would load scripts from a CDN).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from distributor.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from fastapi import FastAPI

    from distributor.config import Settings
    from distributor.store.store import Store

log = logging.getLogger(__name__)
# Threads of one `serve` process that use the store at once: anyio's default thread limiter
# (40: Starlette's threadpool, where sync endpoints and run_in_threadpool run), the webhook's
# writer thread (web/intake.py) and the event loop.
WEB_THREADS = 40 + 2


def create_app(settings: Settings, *, store: Store | None = None, clock: Clock = SYSTEM) -> FastAPI:
    """The FastAPI app for `settings`; ConfigError for a bad `[webhook]`/`[admin]` table."""
    from fastapi import FastAPI

    from distributor import __version__
    from distributor.store import open_store
    from distributor.web import hooks, ops
    from distributor.web.context import WebContext
    from distributor.web.headers import secure
    from distributor.web.hook_settings import hook_settings
    from distributor.web.intake import Intake

    hook_conf = hook_settings(settings)  # config errors before the store is touched
    own = store is None
    pool = settings.database_pool or WEB_THREADS
    db = open_store(settings.database_url, clock=clock, pool=pool) if store is None else store
    ctx = WebContext(settings, db, clock, hook_conf, settings.alerts.stuck_after)
    intake = Intake(ctx)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(intake.close)  # what is queued is planned and answered first
        if own:
            db.close()

    app = FastAPI(
        title="distributor",
        version=__version__,
        description="Signed webhook intake and operator endpoints (docs/webhooks.md).",
        lifespan=lifespan,
        docs_url=None,  # the docs UIs load scripts from a CDN: no third-party script here
        redoc_url=None,
    )
    app.add_middleware(hooks.FastPath, ctx=ctx, intake=intake)  # inside the headers middleware
    secure(app)
    app.state.web = ctx
    app.include_router(hooks.router(ctx, intake))
    app.include_router(ops.router(ctx))
    if not hook_conf.enabled:
        log.warning(
            "webhook disabled: set %s (make one with `distributor hook secret`; %s)",
            " or ".join(hook_conf.names),
            settings.env_source.where(),
        )
    _mount_admin(app, settings, db, clock)
    return app


def _mount_admin(app: Any, settings: Settings, store: Store, clock: Clock) -> None:
    """The admin UI (it decides itself whether it is configured). Its third-party packages are
    all in the `web` extra with FastAPI, so an ImportError here is a bug, never a missing extra."""
    from distributor.web.admin import mount

    mount(app, settings, store, clock=clock)
