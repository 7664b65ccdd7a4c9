"""Group commit for the webhook: one writer thread plans the verified requests waiting together
in ONE store transaction, and answers each only after that commit.

    intake = Intake(ctx)
    status, answer = await intake.submit(msg_id, body)   # (202, ids) once committed
    intake.close()

Under load a request arrives while the previous batch commits; the next batch takes every
request waiting by then (at most `MAX_BATCH`), so the store sees one transaction, one lock and
one commit for many requests instead of one each, and no thread pool hand-off per request. At
low load a batch is one request: nothing waits for company. Each request is parsed and rendered
before the transaction (the write lock is held only for the store's statements). A replayed id
gets its first answer; an article that fails (422) is answered before the store is touched.
When the batch's transaction fails, nothing of it was committed and its requests are planned
again one by one, each in its own transaction, so one bad request fails alone (503 or 500) and
the others get their 202. A `{"url": ...}` body is fetched off this thread (`FETCH`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distributor.errors import ArticleError

if TYPE_CHECKING:
    from distributor.planning import Prepared
    from distributor.web.context import WebContext

log = logging.getLogger("distributor.web.hooks")
MAX_BATCH = 64  # requests planned in one transaction at most
IDLE_SECONDS = 60.0  # a writer with nothing to do for this long ends (the next request starts one)
FETCH: tuple[int, dict[str, Any]] = (0, {})  # the answer: "plan this on the thread pool"
Answer = tuple[int, dict[str, Any]]


class NeedsFetch(Exception):
    """The body is `{"url": ...}` alone: fetching must not hold up the writer thread."""


@dataclass(slots=True)
class _Request:
    msg_id: str
    body: bytes
    done: Future[Answer]
    ready: Prepared | None = None


class Intake:
    """The writer thread (a daemon, started on first use, again after `close` or when it ended
    idle: an app whose shutdown never runs leaves no thread behind for long) and its queue."""

    def __init__(self, ctx: WebContext, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.ctx = ctx
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._writer: tuple[queue.SimpleQueue[_Request | None], threading.Thread] | None = None

    async def submit(self, msg_id: str, body: bytes) -> Answer:
        """The request's answer once its batch committed (or `FETCH`)."""
        done: Future[Answer] = Future()
        with self._lock:  # under the lock: never behind a stopping writer's last request
            if self._writer is None:
                pending: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
                thread = threading.Thread(target=self._run, args=(pending,), name="webhook-writer")
                thread.daemon = True
                thread.start()
                self._writer = (pending, thread)
            self._writer[0].put(_Request(msg_id, body, done))
        return await asyncio.wrap_future(done)

    def plan_together(self, requests: Sequence[tuple[str, bytes]]) -> list[Answer]:
        """Plan verified `(msg_id, body)` requests as ONE batch on this thread; their answers."""
        batch = [_Request(msg_id, body, Future()) for msg_id, body in requests]
        self.handle(batch)
        return [req.done.result(timeout=0) for req in batch]

    def close(self) -> None:
        """Plan and answer what is queued, then stop the writer thread (an app's shutdown)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer[0].put(None)
            writer[1].join()

    def _run(self, pending: queue.SimpleQueue[_Request | None]) -> None:
        stop = False
        while not stop:
            first = self._next(pending)
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH and not stop:
                try:
                    more = pending.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # close(): answer this batch, then stop
                    stop = True
                else:
                    batch.append(more)
            try:
                self.handle(batch)
            except BaseException as exc:  # never leave a request waiting for an answer
                log.exception("webhook writer: a batch failed unanswered")
                for req in batch:
                    if not req.done.done():
                        req.done.set_exception(exc)

    def _next(self, pending: queue.SimpleQueue[_Request | None]) -> _Request | None:
        """The next request; None when closed, or idle for `idle_seconds` (then this writer is
        retired under the lock, so a request is never put in a queue nobody reads)."""
        while True:
            try:
                return pending.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if pending.empty():
                        if self._writer is not None and self._writer[0] is pending:
                            self._writer = None
                        return None

    def handle(self, batch: list[_Request]) -> None:
        """Answer every request of `batch` (never raises: each one gets its own outcome)."""
        waiting: list[_Request] = []
        for req in batch:
            if not req.done.set_running_or_notify_cancel():
                continue  # the client went away before we started: plan nothing
            try:
                self._prepare(req)
            except BaseException as exc:  # a bug: this request's 500, never the batch's
                req.done.set_exception(exc)
                continue
            if req.ready is not None:
                waiting.append(req)
        if waiting:
            self._commit(waiting)

    def _prepare(self, req: _Request) -> None:
        """Parse and render (before the transaction); 422/replay/fetch answer at once."""
        from distributor.web import hooks

        try:
            req.ready = hooks.prepare(self.ctx, req.msg_id, req.body)
        except NeedsFetch:
            req.done.set_result(FETCH)
        except ArticleError as exc:
            stored = self.ctx.store.webhook_response(req.msg_id)  # a replay is never a 422
            if stored is not None:
                req.done.set_result(hooks.replayed(self.ctx, req.msg_id, stored))
            else:
                req.done.set_result(hooks.fail(self.ctx, "invalid", 422, str(exc)))

    def _commit(self, batch: list[_Request]) -> None:
        from distributor.web import hooks

        jobs = [req.ready.job for req in batch if req.ready is not None]
        try:
            results = self.ctx.store.plan_batch(jobs, now=self.ctx.clock.now())
        except BaseException as exc:
            if len(batch) > 1:  # nothing was committed: each request on its own
                log.debug(
                    "webhook batch of %d rolled back (%s): planning one by one", len(batch), exc
                )
                for req in batch:
                    self._commit([req])
                return
            answer = hooks.refused(self.ctx, exc)
            if answer is None:
                batch[0].done.set_exception(exc)
            else:
                batch[0].done.set_result(answer)
            return
        for req, result in zip(batch, results, strict=True):
            assert req.ready is not None
            try:
                req.done.set_result(hooks.planned(self.ctx, req.msg_id, req.ready, result))
            except BaseException as exc:  # the plan is committed; the answer itself failed
                req.done.set_exception(exc)
