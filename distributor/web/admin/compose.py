"""The desk's Compose page (`/admin/compose`): start a post from a URL, a feed item or by hand.

One form, several buttons (`action`): `show` renders every channel's post from the article
fields, `recount` measures the edited texts again (the no-JS path), `publish` / `schedule`
plan the ticked channels with exactly the texts shown. `load` (a pasted URL, fetched through
the fetch guard) and `pick` (a recent feed item) fill the article fields. `/compose/count`
answers the page's script with one channel's count and look while the editor types.
Everything is signed-in + CSRF-checked; what is planned names the person as its actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse

from distributor import compose
from distributor.errors import DistributorError
from distributor.web.admin.app import admin_of, require, require_post, url
from distributor.web.admin.i18n import N_, Text, language, translate
from distributor.web.admin.postview import render

if TYPE_CHECKING:
    from starlette.responses import Response

    from distributor.article import Article
    from distributor.web.admin.auth import Session

router = APIRouter()
# The compose page alone runs a script (compose.js, same origin) and calls /compose/count.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@router.get("/compose", name="compose")
def compose_form(request: Request) -> Response:
    session = require(request)
    return _page(request, session, {})


@router.post("/compose", name="compose_run")
async def compose_run(request: Request) -> Response:
    session, form = await require_post(request)
    # Fetching, rendering every channel and the store are blocking: not on the event loop.
    return await run_in_threadpool(_run, request, session, form)


def _run(request: Request, session: Session, form: dict[str, str]) -> Response:
    action = form.get("action", "show")
    try:
        if action in ("publish", "schedule"):
            return _publish(request, session, form, action)
        fields, fresh = _article_fields(request, session.user, form, action)
    except DistributorError as exc:  # shown again as it was, the editor's texts kept
        shown = bool(form.get("shown"))
        error = said(exc)
        return _page(request, session, form, posts=shown, fresh=False, error=error, status=422)
    return _page(request, session, fields, posts=True, fresh=fresh)


def _article_fields(
    request: Request, user: str, form: dict[str, str], action: str
) -> tuple[dict[str, str], bool]:
    """The article fields after `action`, and whether the posts are rendered afresh."""
    admin = admin_of(request)
    if action == "load":
        return _load(request, user, form.get("url", "")), True
    if action == "pick":
        return compose.fields_of(compose.picked(admin.store, form.get("pick", ""))), True
    return form, action != "recount"


def _load(request: Request, user: str, target: str) -> dict[str, str]:
    """Fetch the page at `target`; who made the server fetch what is recorded, refusals too."""
    admin = admin_of(request)
    try:
        article = compose.load_url(target, admin.settings)
    except DistributorError as exc:
        admin.store.record_event(user, "compose fetch refused", detail=str(exc)[:500])
        if isinstance(exc, compose.ComposeError):
            raise
        reason = compose.Say(N_("Could not load the page: %(reason)s"), {"reason": str(exc)})
        raise compose.ComposeError(reason) from None
    admin.store.record_event(user, "compose fetch", detail=target[:500])
    return compose.fields_of(article)


def _page(
    request: Request,
    session: Session,
    form: dict[str, str],
    *,
    posts: bool = False,
    fresh: bool = True,
    error: object = "",
    status: int = 200,
) -> Response:
    admin = admin_of(request)
    fields = {k: form.get(k, "") for k in compose.FIELDS}
    shown: list[Any] = []
    if posts or form.get("shown"):
        try:
            shown = _shown(request, form if not fresh else fields, fresh)
        except DistributorError as exc:
            error, status = error or said(exc), status if error else 422
    response = admin.page(
        request,
        "compose.html",
        status,
        session=session,
        fields=fields,
        posts=shown,
        at=form.get("at", ""),
        recent=compose.recent_items(admin.store),
        timezone=admin.auth.options.timezone,
        error=error,
    )
    response.headers["Content-Security-Policy"] = CSP
    return response


def _shown(request: Request, form: dict[str, str], fresh: bool) -> list[dict[str, Any]]:
    """The posts with their look, from the form's article (and texts, unless fresh)."""
    posts = _posts(request, form, fresh)
    return [
        {"p": p, "view": render(p.draft, p.text), "problem": _in(request, p.problem)} for p in posts
    ]


def _posts(
    request: Request, form: dict[str, str], fresh: bool, only: tuple[str, ...] = ()
) -> list[compose.Post]:
    article = compose.article_from(form)
    texts = None if fresh else _texts(form)
    chosen = None if fresh or not form.get("shown") else _chosen(form)
    return compose.posts(article, admin_of(request).settings, texts, chosen, only)


def _texts(form: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("text-"): v for k, v in form.items() if k.startswith("text-")}


def _chosen(form: dict[str, str]) -> set[str]:
    return {k.removeprefix("send-") for k, v in form.items() if k.startswith("send-") and v}


def _publish(request: Request, session: Session, form: dict[str, str], action: str) -> Response:
    from distributor.schedule.rules import parse_at

    admin = admin_of(request)
    now = admin.clock.now()
    at = now  # "now" wins over a publish_at the page or feed item named (an embargo does not)
    if action == "schedule":
        try:
            at = parse_at(form.get("at", ""), admin.auth.options.timezone, "time")
        except ValueError as exc:
            raise compose.ComposeError(str(exc)) from None
    article: Article = compose.article_from(form)
    posts = compose.posts(article, admin.settings, _texts(form), _chosen(form))
    plan = compose.publish(
        admin.store, admin.settings, article, posts, session.user, at=at, now=now
    )
    done = "composed_at" if action == "schedule" else "composed"
    target = url(request, "article", id=plan.article_id)
    return RedirectResponse(f"{target}?done={done}", 303)


@router.post("/compose/count", name="compose_count")
async def compose_count(request: Request) -> Response:
    """One channel's count and look for the text being typed (JSON for compose.js)."""
    _, form = await require_post(request)
    return await run_in_threadpool(_count, request, form)


def _count(request: Request, form: dict[str, str]) -> Response:
    name = form.get("channel", "")
    try:
        posts = _posts(request, {**form, "shown": "1"}, False, (name,))  # that one only
    except DistributorError as exc:
        return JSONResponse({"channel": name, "problem": _in(request, exc)}, 422)
    post = next((p for p in posts if p.channel.name == name), None)
    if post is None or post.draft is None:
        problem = _in(request, post.problem if post else f"no channel {name!r}")
        return JSONResponse({"channel": name, "problem": problem}, 422)
    return JSONResponse(
        {
            "channel": name,
            "counts": post.counts,
            "over": post.over,
            "problem": _in(request, post.problem),
            "html": str(render(post.draft, post.text)),
        }
    )


def said(value: object) -> object:
    """A compose message (Say, ComposeError) as the admin UI translates it; others as text."""
    if isinstance(value, compose.ComposeError):
        value = value.say
    if isinstance(value, compose.Say):
        return Text(value.text, **value.params)
    return str(value)


def _in(request: Request, value: object) -> str:
    """`value` in the reader's language."""
    return translate(said(value), language(request))
