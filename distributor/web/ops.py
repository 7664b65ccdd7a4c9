"""Operator endpoints: `GET /healthz` (JSON) and `GET /metrics` (Prometheus text format).

Every metric except the webhook counter is read from the store at scrape time, so the numbers
are the same whichever process (or machine) is scraped; attempts are append-only, so counts
derived from them are true monotonic counters. Every labelled series exists from the start (at
zero), so `rate()` and alerts see a first failure. Webhook request outcomes are counted per
process; with `serve --workers N` (PROMETHEUS_MULTIPROC_DIR set, see `cli/serve.py`) they go
through prometheus_client's multiprocess mode, so every worker's scrape answers the sum of all
of them and the counter never goes down between scrapes that reach different workers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from distributor.store.models import Outcome, State
from distributor.web.context import WebContext

log = logging.getLogger(__name__)
LATENCY_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
HOOKS, HOOKS_HELP = "distributor_webhook_requests", "Webhook requests by outcome"


def router(ctx: WebContext) -> APIRouter:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    shared = multiprocess()
    registry.register(StoreCollector(ctx, own_hooks=not shared))
    if shared:
        _shared_hook_counter(ctx, registry)
    api = APIRouter()

    @api.get("/healthz", summary="Store reachable, queue paused or not")
    def healthz() -> JSONResponse:
        from distributor import __version__

        try:
            paused = ctx.store.paused()
        except Exception as exc:  # any driver error: the store is unreachable
            log.error("healthz: store unreachable: %s", type(exc).__name__)
            body = {"status": "error", "store": f"unreachable ({type(exc).__name__})"}
            return JSONResponse(body, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "store": "ok",
                "paused": paused,
                "webhook": "enabled" if ctx.hooks.enabled else "disabled",
                "version": __version__,
            }
        )

    @api.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return api


def multiprocess() -> bool:
    """Whether prometheus_client keeps its values in PROMETHEUS_MULTIPROC_DIR (it decides once,
    when it is first imported)."""
    from prometheus_client import values

    return getattr(values.ValueClass, "__name__", "") == "MmapedValue"


def _shared_hook_counter(ctx: WebContext, registry: Any) -> None:
    """Count webhook outcomes in the multiprocess files; the scrape sums every process's."""
    from prometheus_client import Counter
    from prometheus_client.multiprocess import MultiProcessCollector

    from distributor.web.context import OUTCOMES

    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    counter = Counter(HOOKS, HOOKS_HELP, ["outcome"], registry=None)
    for outcome in OUTCOMES:
        counter.labels(outcome)  # every series exists at zero from the start
    ctx.on_count = lambda outcome: counter.labels(outcome).inc()


class StoreCollector:
    """Builds every metric family at scrape time (a prometheus_client custom collector)."""

    def __init__(self, ctx: WebContext, *, own_hooks: bool = True) -> None:
        self.ctx = ctx
        self.own_hooks = own_hooks

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        store = self.ctx.store
        states = GaugeMetricFamily(
            "distributor_deliveries", "Deliveries by state", labels=["state"]
        )
        counts = {state.value: 0 for state in State} | store.counts_by_state()
        for state, n in sorted(counts.items()):
            states.add_metric([state], n)
        yield states
        yield GaugeMetricFamily(
            "distributor_deliveries_stuck",
            "Deliveries overdue by more than [alerts] stuck_after, or whose worker lost its lease",
            value=self._stuck(),
        )
        yield GaugeMetricFamily(
            "distributor_paused", "1 while dispatch is paused", value=int(store.paused())
        )
        yield from self._attempts(CounterMetricFamily)
        hist = store.latency_histogram(LATENCY_BOUNDS)
        latency = HistogramMetricFamily(
            "distributor_send_latency_seconds", "Time of each platform call (every attempt)"
        )
        buckets = [(f"{b:g}", n) for b, n in zip(hist.bounds, hist.cumulative, strict=True)]
        latency.add_metric([], [*buckets, ("+Inf", hist.count)], hist.total_seconds)
        yield latency
        if self.own_hooks:
            hooks = CounterMetricFamily(HOOKS, HOOKS_HELP, labels=["outcome"])
            for outcome, n in self.ctx.snapshot().items():
                hooks.add_metric([outcome], n)
            yield hooks

    def _stuck(self) -> int:
        from distributor.review import attention

        now = self.ctx.clock.now()
        limit = timedelta(seconds=self.ctx.stuck_after)
        turns = self.ctx.store.gaps()
        return sum(
            1
            for d in self.ctx.store.audit()
            if d.state is not State.UNKNOWN and attention(d, now, limit, turns)
        )

    def _attempts(self, counter: Any) -> Iterator[Any]:
        counts = self.ctx.store.attempt_counts()
        attempts = counter("distributor_attempts", "Send attempts by outcome", labels=["outcome"])
        by_outcome: dict[str, int] = dict.fromkeys(map(str, Outcome), 0)
        for (outcome, _kind), n in counts.items():
            by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        for outcome, n in sorted(by_outcome.items()):
            attempts.add_metric([outcome], n)
        yield attempts
        limited = sum(n for (_o, kind), n in counts.items() if kind == "RateLimited")
        yield counter(
            "distributor_rate_limited", "Attempts answered with 429 (RateLimited)", value=limited
        )
