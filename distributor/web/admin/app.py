"""The admin sub-application: templates, security headers, the login gate and the routes."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distributor.clock import SYSTEM
from distributor.web.admin.auth import TOKEN_ACTOR, Auth, Session
from distributor.web.admin.i18n import N_
from distributor.web.admin.limits import LoginLimiter
from distributor.web.admin.options import AdminOptions

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response

    from distributor.config import Settings
    from distributor.store.store import Store


class LoginRequired(Exception):
    """Nobody is signed in: GETs go to the login page, everything else gets 401."""


class TooManyFailures(Exception):
    """Wrong bearer tokens from one address too often: 429 until the window passes."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class Admin:
    """What every route needs, kept on the sub-app's state."""

    settings: Settings
    store: Store
    auth: Auth
    limiter: LoginLimiter
    clock: Any
    templates: dict[str, Any]  # language -> Jinja2Templates with its catalogue and clock face

    def page(self, request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
        """Render template `name` in the reader's language (`done`/`error` are translated)."""
        from distributor.web.admin import i18n

        session = ctx.pop("session", None)
        lang = i18n.language(request)
        base = {
            "session": session,
            "csrf": session.csrf if session else "",
            "lang": lang,
            "languages": i18n.LANGUAGES,
            "here": _here(request),
            "url_for": lambda name, **params: url(request, name, **params),
            "handles": Handles(self.store),
        }
        for key in ("done", "error"):
            ctx[key] = i18n.translate(ctx.get(key, ""), lang)
        return self.templates[lang].TemplateResponse(  # type: ignore[no-any-return]
            request, name, {**base, **ctx}, status_code=status
        )


def _here(request: Request) -> str:
    """Where the language switch comes back to: this page, or for the answer to a form (a
    POST) the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import urlsplit

    came = urlsplit(request.headers.get("referer", ""))
    if came.netloc == request.url.netloc and came.path:
        return came.path + (f"?{came.query}" if came.query else "")
    return str(request.scope.get("root_path", "")) + "/"


class Handles(Mapping[str, "str | None"]):
    """account_key -> the handle `distributor check` saw; read from the store on first use."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._found: dict[str, str | None] | None = None

    def _all(self) -> dict[str, str | None]:
        if self._found is None:
            self._found = {k: a.handle for k, a in self._store.accounts().items()}
        return self._found

    def __getitem__(self, key: str) -> str | None:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def url(request: Request, name: str, **params: Any) -> str:
    """The path of the admin route `name`, wherever the admin app is mounted."""
    root = str(request.scope.get("root_path", ""))
    values = {k: str(v) for k, v in params.items()}
    if not all(v and "/" not in v and _MARK not in v for v in values.values()):
        # Starlette refuses it, or a static file in a folder: ask Starlette each time
        return root + str(request.app.url_path_for(name, **values))
    key = (name, *sorted(values))
    paths: dict[tuple[str, ...], str] = request.app.state.paths
    if key not in paths:
        paths[key] = str(request.app.url_path_for(name, **{k: _MARK + k for k in values}))
    path = paths[key]
    for k in sorted(values, key=len, reverse=True):  # `id` before `i`, were there both
        path = path.replace(_MARK + k, values[k])
    return root + path


# Route paths are remembered with this in place of each parameter: Starlette looks for the
# route afresh on every url_path_for (about 1 ms with 300 links on the home page).
_MARK = "\x1f"


def admin_of(request: Request) -> Admin:
    return request.app.state.admin  # type: ignore[no-any-return]


def require(request: Request) -> Session:
    """The signed-in person, or LoginRequired (TooManyFailures for bearer-token guessing)."""
    admin = admin_of(request)
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    addr = request.client.host if request.client else "?"
    if bearer and (wait := admin.limiter.retry_after(TOKEN_ACTOR, addr)):
        raise TooManyFailures(wait)
    session = admin.auth.session(request)
    if session is None:
        if bearer:
            admin.limiter.failed(TOKEN_ACTOR, addr)
        raise LoginRequired
    return session


async def require_post(request: Request) -> tuple[Session, dict[str, str]]:
    """Signed in, and the form carries the session's CSRF token: (session, form fields)."""
    session = require(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not admin_of(request).auth.csrf_ok(session, fields.get("csrf")):
        raise CsrfFailed
    return session, fields


def build(settings: Settings, store: Store, options: AdminOptions, *, clock: Any = None) -> FastAPI:
    """The admin app (mount it under a prefix; all its URLs are relative to that)."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from distributor.web.admin import compose, desk, forms, i18n, pages, schedule
    from distributor.web.headers import secure

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.paths = {}  # url(): (route name, parameter names) -> its path with marks
    clock = clock or SYSTEM
    app.state.admin = Admin(
        settings=settings,
        store=store,
        auth=Auth(options, store),
        limiter=LoginLimiter(clock=getattr(clock, "monotonic", time.monotonic)),
        clock=clock,
        templates={lang: _templates(lang, options.timezone, clock) for lang in i18n.LANGUAGES},
    )
    secure(app)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(TooManyFailures, _too_many)
    app.add_exception_handler(404, _not_found)
    app.add_exception_handler(Exception, _server_error)
    app.mount("/static", StaticFiles(packages=[("distributor.web.admin", "static")]), "static")
    app.include_router(desk.router)
    app.include_router(pages.router)
    app.include_router(forms.router)
    app.include_router(schedule.router)
    app.include_router(compose.router)
    app.include_router(i18n.router)
    return app


def _templates(lang: str, timezone: str, clock: Any) -> Any:
    """The pages in `lang`: its catalogue (`_()`, `{% trans %}`, the newsroom words) and
    times in `timezone`."""
    from fastapi.templating import Jinja2Templates
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from distributor.routing import skip_say
    from distributor.schedule.rules import zone
    from distributor.web.admin import views, words
    from distributor.web.admin.i18n import translate, translations
    from distributor.web.admin.times import Clockface

    env = Environment(
        loader=PackageLoader("distributor.web.admin", "templates"),
        autoescape=True,  # article titles and texts are hostile input
        auto_reload=False,  # packaged files: no stat() per {% include %} (one per chip)
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    catalogue = translations(lang)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(views.FILTERS)
    env.filters.update(Clockface(lang, zone(timezone), clock.now).filters())
    env.filters.update(words.filters(catalogue.gettext))
    env.globals.update(words.templates(catalogue.gettext))
    env.globals["said"] = lambda value: translate(value, lang)  # a Say, Text or error
    env.globals["skip_say"] = skip_say
    return Jinja2Templates(env=env)


async def _login_required(request: Request, exc: Exception) -> Response:
    from urllib.parse import quote

    from starlette.responses import PlainTextResponse, RedirectResponse

    if request.method in ("GET", "HEAD"):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/login?next={quote(here)}", 303)
    return PlainTextResponse("login required", 401, headers={"WWW-Authenticate": "Bearer"})


async def _too_many(request: Request, exc: Exception) -> Response:
    from starlette.responses import PlainTextResponse

    wait = exc.wait if isinstance(exc, TooManyFailures) else 60
    from distributor.web.admin.i18n import language, translate

    text = translate(N_("too many failed logins"), language(request))
    return PlainTextResponse(text, 429, headers={"Retry-After": str(wait)})


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    from starlette.responses import PlainTextResponse

    from distributor.web.admin.i18n import language, translate

    text = N_("missing or wrong CSRF token: reload the page and try again")
    return PlainTextResponse(translate(text, language(request)), 403)


async def _not_found(request: Request, exc: Exception) -> Response:
    """An HTML page (with the security headers, like every answer) for a wrong address."""
    return _error_page(request, 404, N_("Page not found"), N_("There is no page at this address."))


async def _server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: says nothing about the exception (it is logged) and carries the headers
    itself (Starlette answers it outside every middleware)."""
    from distributor.web.headers import HEADERS, log

    log.error("%s %s: unhandled %s", request.method, request.url.path, type(exc).__name__)
    response = _error_page(
        request,
        500,
        N_("Something went wrong"),
        N_(
            "The page could not be shown; this was logged. "
            "Try again, or tell an admin what you did."
        ),
    )
    response.headers.update(HEADERS)
    return response


def _error_page(request: Request, status: int, title: str, text: str) -> Response:
    admin = admin_of(request)
    try:
        session = admin.auth.session(request)
    except Exception:  # a broken store must not turn the error page into another error
        session = None
    return admin.page(request, "error.html", status, session=session, title=title, error=text)
