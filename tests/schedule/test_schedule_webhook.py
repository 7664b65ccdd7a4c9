"""The webhook body carries the schedule: publish_at (newsroom wall clock without an offset),
embargo_until and priority reach the planned deliveries; a skipped wall time is a 422."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from admin_helpers import serve
from hook_helpers import T0, article_body, hook_settings_for, post, signed

from distributor.store import open_store
from distributor.testing import FakeClock
from distributor.web.app import create_app


def test_webhook_body_schedules_the_article(tmp_path: Path) -> None:
    from dataclasses import replace

    db = f"sqlite:///{tmp_path / 'd.db'}"
    settings = replace(
        hook_settings_for(tmp_path, DISTRIBUTOR_DATABASE_URL=db), timezone="Europe/Berlin"
    )
    store = open_store(settings.database_url, clock=FakeClock(T0))
    try:
        with serve(create_app(settings, store=store, clock=FakeClock(T0))) as base:
            body = article_body(
                publish_at="2026-04-03 07:30",
                embargo_until="2026-04-03T05:00:00Z",
                priority="breaking",
            )
            resp = post(base, body, signed(body, msg_id="msg_s1"))
            assert resp.status_code == 202, resp.text
            bad = article_body(url="https://news.example/other", publish_at="2026-03-29 02:30")
            refused = post(base, bad, signed(bad, msg_id="msg_s2"))
            assert refused.status_code == 422 and "does not exist in Europe/Berlin" in refused.text
        [d, *_] = store.query(limit=10)[0]
        assert d.not_before == datetime(2026, 4, 3, 5, 30, tzinfo=UTC)  # 07:30 CEST
        assert d.embargo_until == datetime(2026, 4, 3, 5, 0, tzinfo=UTC) and d.priority == 1
    finally:
        store.close()
