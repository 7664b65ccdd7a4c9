"""GET /healthz and GET /metrics on real uvicorn, the metrics parsed by prometheus_client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import serve
from hook_helpers import T0, article_body, hook_settings_for, post, signed  # noqa: F401 (T0: clock)
from prometheus_client.parser import text_string_to_metric_families

from distributor.config import Settings
from distributor.store import open_store
from distributor.store.models import Attempt
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.web.app import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return hook_settings_for(tmp_path, '[alerts]\nstuck_after = "10m"\n')


@pytest.fixture
def store(settings: Settings, clock: FakeClock) -> Iterator[Store]:
    s = open_store(settings.database_url, clock=clock)
    yield s
    s.close()


@pytest.fixture
def base(settings: Settings, store: Store, clock: FakeClock) -> Iterator[str]:
    with serve(create_app(settings, store=store, clock=clock)) as url:
        yield url


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = requests.get(f"{base}/metrics", timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def _send(store: Store, clock: FakeClock, outcome: str, ms: int, kind: str | None = None) -> None:
    [claimed] = store.claim("w1", lease_seconds=60)
    store.mark_sending(claimed.delivery.id, claimed.fence)
    start = clock.now()
    clock.advance(ms / 1000)
    attempt = Attempt(outcome, start, clock.now(), "w1", error_kind=kind, latency_ms=ms)
    extra: dict[str, Any] = {"remote_id": "r1"} if outcome == "sent" else {}
    if outcome == "retry":
        extra["not_before"] = clock.now() + timedelta(seconds=30)
    store.finish(claimed.delivery.id, claimed.fence, outcome, attempt, **extra)


def test_healthz_reports_the_store_and_the_pause_switch(base: str, store: Store) -> None:
    first = requests.get(f"{base}/healthz", timeout=10)
    store.pause("ops-test")
    second = requests.get(f"{base}/healthz", timeout=10).json()
    assert first.status_code == 200
    assert first.json() | {"version": "x"} == {
        "status": "ok",
        "store": "ok",
        "paused": False,
        "webhook": "enabled",
        "version": "x",
    }
    assert second["paused"] is True


def test_healthz_is_503_when_the_store_breaks(base: str, store: Store) -> None:
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE controls")
    resp = requests.get(f"{base}/healthz", timeout=10)
    assert resp.status_code == 503 and resp.json()["status"] == "error"
    assert "unreachable" in resp.json()["store"]


def test_metrics_count_states_attempts_429s_latency_and_webhooks(
    base: str, store: Store, clock: FakeClock
) -> None:
    body = article_body()
    assert post(base, body, signed(body)).status_code == 202
    post(base, body, signed(body, b"w" * 32))  # unauthorized
    post(base, b"{}", signed(b"{}"))  # invalid
    _send(store, clock, "retry", 300, "RateLimited")
    clock.advance(31)
    _send(store, clock, "sent", 1200)
    got = samples(base)
    assert got[("distributor_deliveries", (("state", "sent"),))] == 1
    assert got[("distributor_deliveries", (("state", "awaiting_review"),))] == 1
    assert got[("distributor_deliveries", (("state", "queued"),))] == 0
    assert got[("distributor_attempts_total", (("outcome", "retry"),))] == 1
    assert got[("distributor_attempts_total", (("outcome", "sent"),))] == 1
    assert got[("distributor_rate_limited_total", ())] == 1
    assert got[("distributor_send_latency_seconds_bucket", (("le", "0.25"),))] == 0
    assert got[("distributor_send_latency_seconds_bucket", (("le", "0.5"),))] == 1
    assert got[("distributor_send_latency_seconds_bucket", (("le", "2.5"),))] == 2
    assert got[("distributor_send_latency_seconds_bucket", (("le", "+Inf"),))] == 2
    assert got[("distributor_send_latency_seconds_count", ())] == 2
    assert got[("distributor_send_latency_seconds_sum", ())] == pytest.approx(1.5)
    hooks = "distributor_webhook_requests_total"
    assert got[(hooks, (("outcome", "accepted"),))] == 1
    assert got[(hooks, (("outcome", "unauthorized"),))] == 1
    assert got[(hooks, (("outcome", "invalid"),))] == 1
    assert got[(hooks, (("outcome", "too_large"),))] == 0
    assert got[("distributor_paused", ())] == 0


def test_stuck_deliveries_are_counted_after_stuck_after(
    base: str, store: Store, clock: FakeClock
) -> None:
    body = article_body()
    assert post(base, body, signed(body)).status_code == 202
    assert samples(base)[("distributor_deliveries_stuck", ())] == 0
    clock.advance(11 * 60)  # [alerts] stuck_after = 10m; the review item is not stuck
    assert samples(base)[("distributor_deliveries_stuck", ())] == 1


def test_openapi_schema_documents_the_webhook(base: str) -> None:
    schema = requests.get(f"{base}/openapi.json", timeout=10).json()
    hook = schema["paths"]["/hooks/articles"]["post"]
    assert {"202", "401", "413", "422"} <= set(hook["responses"])
    headers = {p["name"] for p in hook["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert {"/healthz", "/metrics"} <= set(schema["paths"])
