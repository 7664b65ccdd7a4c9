"""/metrics under `serve --workers N`: counters never go down between scrapes that reach
different worker processes, and every labelled series exists at zero (prometheus_client's
multiprocess mode; parsed with prometheus_client's own parser)."""

from __future__ import annotations

import itertools
import signal
from pathlib import Path
from typing import Any

import requests
from hook_helpers import KEY, article_body, post
from test_cli_hook import _wait_healthy, config, free_port, start_serve

from distributor.web.signing import sign_headers

__all__ = ["config"]  # the fixture


def test_metrics_of_several_workers_never_go_down_and_show_every_series(config: Path) -> None:
    """`serve --workers 3`: scrapes land on any worker, yet each answers the count of all
    (prometheus_client's multiprocess mode); parsed with prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    port = free_port()
    proc = start_serve(config, port, workers=3)
    base = f"http://127.0.0.1:{port}"
    seen: list[dict[tuple[str, str], float]] = []
    try:
        _wait_healthy(proc, f"{base}/healthz")
        for n in range(5):
            body = article_body(url=f"https://news.example.com/2026/04/meldung-{n}")
            assert post(base, body, sign_headers(KEY, body)).status_code == 202
            for _ in range(4):  # a new connection each time: any worker may answer
                text = requests.get(f"{base}/metrics", timeout=10).text
                seen.append(_samples(text_string_to_metric_families(text)))
                assert seen[-1][("distributor_webhook_requests_total", "accepted")] == n + 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    last = seen[-1]
    assert last[("distributor_attempts_total", "failed")] == 0  # the series exists at zero
    assert last[("distributor_webhook_requests_total", "unauthorized")] == 0
    assert last[("distributor_deliveries", "queued")] == 5
    assert last[("distributor_deliveries", "unknown")] == 0
    for earlier, later in itertools.pairwise(seen):
        for key, value in earlier.items():
            if key[0].endswith("_total"):
                assert later[key] >= value, key


def _samples(families: Any) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for family in families:
        for sample in family.samples:
            label = sample.labels.get("outcome") or sample.labels.get("state") or ""
            out[(sample.name, label)] = sample.value
    return out
