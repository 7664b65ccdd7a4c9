"""`POST /hooks/articles`: a signed article (or `{"url": ...}` to fetch) becomes deliveries.

Order of checks, each answered before any work of the next: secrets configured (503), body size
(413, counted while reading, never read past the cap), signature and timestamp (401), a known
webhook id (202 with the first answer, nothing done), the article (422), then ONE store
transaction records the id and plans the deliveries; only after its commit does the sender get
202 with the delivery ids. Nothing is ever posted inside the request: workers send.
Requests waiting together share that transaction (group commit, web/intake.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from distributor.article import Article
from distributor.errors import ArticleError, DistributorError
from distributor.planning import Prepared
from distributor.store.models import Delivery, PlanResult
from distributor.store.webhooks import WebhookCall, WebhookReplay
from distributor.web.context import WebContext
from distributor.web.intake import FETCH, Answer, Intake, NeedsFetch
from distributor.web.signing import SignatureError, verify

log = logging.getLogger(__name__)
WHERE = "request body"
PATH = "/hooks/articles"
_ARTICLE_SCHEMA = {
    "type": "object",
    "description": "An article (url and title required, see docs/webhooks.md), or "
    '{"url": "https://..."} alone to fetch the page (hosts allowed by [watch] allow_hosts).',
    "properties": {"url": {"type": "string"}, "title": {"type": "string"}},
    "required": ["url"],
}


# Documented here, read in `_handle` (signing.verify): FastAPI's per-request parameter
# solving for three optional headers was a tenth of the server's CPU per webhook.
_HEADERS = [
    {
        "name": f"webhook-{name}",
        "in": "header",
        "required": False,
        "description": f"Standard Webhooks {name} (or `svix-{name}`)",
        "schema": {"type": "string"},
    }
    for name in ("id", "timestamp", "signature")
]


class TooLarge(Exception):
    """The body passed the configured cap."""


class FastPath:
    """Serves `POST /hooks/articles` straight from the middleware stack (a pure ASGI
    middleware inside `SecureHeaders`); every other request goes on to FastAPI's router.

    The route below stays only to document the webhook in `/openapi.json`. FastAPI's routing,
    its exception and exit-stack middlewares and its per-request dependency solving were half
    the Python calls the event loop made per webhook (cProfile: 560, now 295), and the webhook
    uses none of them: it reads its body and headers itself. An exception here still reaches
    the app's 500 handler, and `SecureHeaders` (outside this one) still sets its headers."""

    def __init__(self, app: Any, ctx: WebContext, intake: Intake) -> None:
        self.app, self.ctx, self.intake = app, ctx, intake

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        status, answer = await _handle(self.ctx, self.intake, Request(scope, receive))
        await JSONResponse(answer, status_code=status)(scope, receive, send)


def _path(scope: Mapping[str, Any]) -> str:
    """The path the router would match (without a `root_path` the server put in front)."""
    path, root = str(scope["path"]), scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def router(ctx: WebContext, intake: Intake) -> APIRouter:
    api = APIRouter()

    @api.post(
        PATH,
        status_code=202,
        summary="Plan an article for every routed channel (Standard Webhooks signature)",
        openapi_extra={
            "parameters": _HEADERS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ARTICLE_SCHEMA}},
            },
        },
        responses={
            202: {"description": "Planned (or a replay): the delivery ids"},
            401: {"description": "Missing, stale or wrong signature"},
            413: {"description": "Body larger than [webhook] max_body"},
            422: {"description": "Not a valid article"},
            503: {"description": "No webhook secret configured"},
        },
    )
    async def articles(request: Request) -> JSONResponse:  # served by FastPath (documented here)
        status, answer = await _handle(ctx, intake, request)
        return JSONResponse(answer, status_code=status)

    return api


async def _handle(ctx: WebContext, intake: Intake, request: Request) -> Answer:
    if not ctx.hooks.enabled:
        names = " or ".join(ctx.hooks.names)
        return fail(ctx, "unavailable", 503, f"webhook secret not configured: set {names}")
    try:
        body = await _read_capped(request, ctx.settings.webhook.max_body)
    except TooLarge:
        return fail(
            ctx, "too_large", 413, f"body larger than {ctx.settings.webhook.max_body} bytes"
        )
    try:
        msg_id = verify(
            ctx.hooks.keys,
            request.headers,
            body,
            now=ctx.clock.now().timestamp(),
            tolerance=ctx.settings.webhook.tolerance,
        )
    except SignatureError as exc:
        return fail(ctx, "unauthorized", 401, str(exc))
    answer = await intake.submit(msg_id, body)
    if answer is FETCH:  # fetching a page takes a thread of its own
        return await run_in_threadpool(accept, ctx, msg_id, body)
    return answer


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def fail(ctx: WebContext, outcome: str, status: int, detail: str) -> Answer:
    ctx.count(outcome)
    log.warning("webhook refused (%s): %s", status, detail)
    return status, {"detail": detail}


def refused(ctx: WebContext, exc: BaseException) -> Answer | None:
    """The answer for a request whose planning raised `exc` (None: a bug, a 500)."""
    if isinstance(exc, ArticleError):
        return fail(ctx, "invalid", 422, str(exc))
    if isinstance(exc, DistributorError):  # store trouble: the sender should retry later
        return fail(ctx, "unavailable", 503, f"not planned, try again: {exc}")
    if isinstance(exc, SQLAlchemyError):  # the database is down or locked up: nothing committed
        detail = f"not planned, try again: store unavailable ({type(exc).__name__})"
        return fail(ctx, "unavailable", 503, detail)
    return None


def accept(ctx: WebContext, msg_id: str, body: bytes) -> Answer:
    """A verified request on its own: replay answer, 422, or plan it (blocking: store, fetch,
    render). The intake plans the others in batches; this one also fetches `{"url": ...}`."""
    stored = ctx.store.webhook_response(msg_id)
    if stored is not None:
        return replayed(ctx, msg_id, stored)
    try:
        ready = _prepared(ctx, msg_id, _article(ctx, body, fetch=True))
        (result,) = ctx.store.plan_batch([ready.job], now=ctx.clock.now())
        return planned(ctx, msg_id, ready, result)
    except (DistributorError, SQLAlchemyError) as exc:
        answer = refused(ctx, exc)
        assert answer is not None
        return answer


def prepare(ctx: WebContext, msg_id: str, body: bytes) -> Prepared:
    """The parsed, rendered request ready for the store; ArticleError (422) or NeedsFetch."""
    return _prepared(ctx, msg_id, _article(ctx, body, fetch=False))


def planned(
    ctx: WebContext, msg_id: str, ready: Prepared, result: PlanResult | WebhookReplay
) -> Answer:
    """The answer once the plan is committed (the same one its id now has in the store)."""
    from distributor.planning import settle

    if isinstance(result, WebhookReplay):  # the same id raced us and committed first
        return replayed(ctx, msg_id, result.response)
    assert ready.job.webhook is not None
    plan = settle(ctx.store, ready, result)
    answer = dict(
        ready.job.webhook.respond(PlanResult(plan.article_id, plan.created, plan.existing))
    )
    ctx.count("accepted")
    log.info("webhook %s: planned deliveries %s", msg_id, answer["deliveries"])
    return 202, answer


def replayed(ctx: WebContext, msg_id: str, answer: dict[str, Any]) -> Answer:
    ctx.count("replayed")
    log.info("webhook %s seen before: answered again, nothing planned", msg_id)
    return 202, answer


def _article(ctx: WebContext, body: bytes, *, fetch: bool) -> Article:
    from distributor.sources.files import articles_from_data, decode_text
    from distributor.untrusted import JSONRefused, loads

    try:
        data = loads(decode_text(body, WHERE))
    except json.JSONDecodeError as exc:
        raise ArticleError(f"{WHERE}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except JSONRefused as exc:  # nesting, huge numbers, lone surrogates: 422, never a 500
        raise ArticleError(f"{WHERE}: not valid JSON: {exc.msg}") from None
    if isinstance(data, Mapping) and set(data) == {"url"}:
        if not fetch:
            raise NeedsFetch
        return _fetched(ctx, data["url"])
    if not isinstance(data, Mapping):
        raise ArticleError(f"{WHERE}: expected one article object (url, title, ...)")
    return articles_from_data(data, WHERE)[0]


def _fetched(ctx: WebContext, url: Any) -> Article:
    from distributor.sources import parse_articles
    from distributor.sources.files import fetch_url

    if not ctx.settings.webhook.fetch:
        raise ArticleError(f"{WHERE}: fetching a URL is switched off ([webhook] fetch = false)")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ArticleError(f"{WHERE}: 'url' must be an http(s) URL")
    raw = fetch_url(url, rules=ctx.settings.watch.rules())
    found = parse_articles(raw)
    if len(found) != 1:
        raise ArticleError(f"{url}: holds {len(found)} articles, expected one article page")
    return found[0]


def _prepared(ctx: WebContext, msg_id: str, article: Article) -> Prepared:
    from distributor.planning import prepare as prepare_plan
    from distributor.service import preview

    items = preview(article, config=ctx.settings)
    skipped = [{"channel": i.channel.name, "reason": i.skipped} for i in items if i.skipped]

    def respond(result: PlanResult) -> dict[str, Any]:
        every = (*result.created, *result.existing)
        return {
            "webhook_id": msg_id,
            "article_id": result.article_id,
            "url": article.url,
            "deliveries": [d.id for d in every],
            "created": [_brief(d) for d in result.created],
            "existing": [_brief(d) for d in result.existing],
            "skipped": skipped,
        }

    call = WebhookCall(msg_id, respond)
    when = (ctx.settings.timezone, None)
    ready = prepare_plan(
        article, items, source="webhook", now=ctx.clock.now(), webhook=call, when=when
    )
    if isinstance(ready, str):
        raise ArticleError(ready)
    return ready


def _brief(d: Delivery) -> dict[str, Any]:
    return {"id": d.id, "channel": d.channel, "state": d.state.value}
