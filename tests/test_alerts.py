"""alerts.check on a real SQLite store with a fake clock: which incidents open, de-duplication,
reminders, resolution, the `[alerts]` settings' errors, and the `distributor alerts` commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from distributor import alerts
from distributor.article import Article
from distributor.config import Settings, load_config
from distributor.errors import ConfigError
from distributor.secrets import Secret
from distributor.store.models import Attempt, PlanItem, State
from distributor.store.store import Store
from distributor.testing import FakeClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = """
[channels.masto]
platform = "mastodon"
account = "mastodon:news"
access_token_env = "MASTO_TOKEN"

[alerts]
admin_url = "https://admin.example/"
stuck_after = "10m"
failure_rate = "3/5min"
heartbeat_timeout = "60s"
remind_every = "1h"
"""


class Outbox:
    """A notifier that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, targets: Sequence[Secret], title: str, body: str) -> tuple[bool, str]:
        self.sent.append((title, body))
        return True, "kept"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, environ={"MASTO_TOKEN": "tok-123456"})


def _plan(store: Store, n: int = 1) -> list[int]:
    """`n` new queued deliveries on channel masto, each on an account of its own."""
    ids = []
    for i in range(n):
        seq = len(store.query(limit=1000)[0])
        art = Article(url=f"https://news.example/a/{i}-{seq}", title="A story")
        item = PlanItem("masto", "mastodon", f"acct-{seq}", {"text": "hi"}, f"k{i}-{art.url}")
        ids += [d.id for d in store.plan(art, [item]).created]
    return ids


def _fail(store: Store, clock: FakeClock, outcome: str, kind: str) -> int:
    [delivery_id] = _plan(store)
    [claimed] = store.claim("w1", lease_seconds=60)
    store.mark_sending(delivery_id, claimed.fence)
    at = clock.now()
    attempt = Attempt(outcome=outcome, started_at=at, finished_at=at, error_kind=kind)
    nb = at + timedelta(seconds=1) if outcome == "retry" else None
    store.finish(delivery_id, claimed.fence, outcome, attempt, not_before=nb)
    return delivery_id


def test_two_unknown_deliveries_are_one_alert_until_resolved(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    out = Outbox()
    a, b = _fail(store, clock, "unknown", "MaybeSent"), _fail(store, clock, "unknown", "MaybeSent")
    report = alerts.check(settings, store, clock, notify=out)
    assert [i.key for i in report.open] == ["unknown:masto"]
    assert len(out.sent) == 1 and f"#{a}, #{b}" in out.sent[0][1]
    assert "https://admin.example/" in out.sent[0][1]
    clock.advance(60)
    assert alerts.check(settings, store, clock, notify=out).notified == []
    clock.advance(3600)  # still open an hour later: one reminder
    assert len(alerts.check(settings, store, clock, notify=out).notified) == 1
    assert out.sent[1][0].startswith("[distributor] still open:")
    for d in (a, b):
        store.transition(d, State.CANCELLED, actor="t")
    assert [x.key for x in alerts.check(settings, store, clock, notify=out).resolved] == [
        "unknown:masto"
    ]
    _fail(store, clock, "unknown", "MaybeSent")
    assert len(alerts.check(settings, store, clock, notify=out).notified) == 1
    assert len(out.sent) == 3 and len(store.alerts()) == 2


def test_stuck_reauth_failure_rate_and_silent_worker(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    out = Outbox()
    for _ in range(3):
        _fail(store, clock, "retry", "RateLimited")
    for d in store.audit():  # the retries end well
        store.transition(d.id, State.CANCELLED, actor="t")
    _plan(store, 1)  # queued, never sent: stuck after 10 minutes
    store.mark_reauth("mastodon:news", "AuthFailed: 401 token revoked")
    store.heartbeat("w-dead")
    store.heartbeat("w-stopped")
    store.worker_stopped("w-stopped")  # stopped cleanly: not an incident
    assert {i.key for i in alerts.check(settings, store, clock, notify=out).open} == {
        "reauth:mastodon:news",
        "rate_limited:masto",
    }
    clock.advance(11 * 60)  # the 429s age out of the 5-minute window, the worker is silent
    keys = {i.key for i in alerts.check(settings, store, clock, notify=out).open}
    assert keys == {"reauth:mastodon:news", "stuck", "worker:w-dead"}
    body = next(b for t, b in out.sent if "re-authentication" in t)
    assert "masto" in body and "token revoked" in body
    assert [a.key for a in store.alerts() if not a.open] == ["rate_limited:masto"]
    store.clear_reauth("mastodon:news")
    clock.advance(2 * 86400)  # a worker dead for a day is forgotten; its incident resolves
    resolved = {a.key for a in alerts.check(settings, store, clock, notify=out).resolved}
    assert resolved == {"reauth:mastodon:news", "worker:w-dead"}
    assert store.workers() == []  # both forgotten after a day


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('targets = ["mailto://me:hunter22@mail.example"]', "password in it"),
        ('targets_env = ["NOT_SET_ANYWHERE"]', "NOT_SET_ANYWHERE is not set"),
        ('stuck_after = "soon"', "'stuck_after': not a duration"),
        ('failure_rate = "lots"', "not a rate"),
        ("colour = 1", "key 'colour': unknown key"),
        ('targets = ["nonsense-scheme://x"]', "not an Apprise URL"),
    ],
)
def test_bad_alert_settings_are_one_clear_error(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "distributor.toml"
    path.write_text(f"[alerts]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:  # the table at load, URLs later
        from distributor.alerts.notify import validate

        validate(alerts.alert_targets(load_config(path, environ={})))
    assert "hunter22" not in str(info.value)


def test_alerts_commands(settings: Settings, store: Store, clock: FakeClock) -> None:
    from distributor.cli import cli

    _fail(store, clock, "unknown", "MaybeSent")
    db = str(store._engine.url)
    run = CliRunner()
    assert settings.path is not None
    args = ["--config", str(settings.path), "alerts"]
    checked = run.invoke(cli, [*args, "check", "--database", db])
    assert checked.exit_code == 1, checked.output  # something is open
    assert "unknown:masto" in checked.output
    listed = run.invoke(cli, [*args, "list", "--database", db, "--json"])
    assert listed.exit_code == 0 and '"key": "unknown:masto"' in listed.output
    assert '"open": true' in listed.output


def test_status_and_audit_show_open_alerts(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    import json

    from distributor.cli import cli

    _fail(store, clock, "unknown", "MaybeSent")
    store.mark_reauth("mastodon:news", "AuthFailed: 401")
    store.heartbeat("w-live")
    alerts.check(settings, store, clock, notify=Outbox())
    db = str(store._engine.url)
    assert settings.path is not None
    base = ["--config", str(settings.path)]
    run = CliRunner()
    st = run.invoke(cli, [*base, "status", "--database", db, "--json", "--check"])
    assert st.exit_code == 1  # an incident is open, and it says so on stderr
    assert "2 open alert(s): reauth:mastodon:news, unknown:masto;" in st.stderr
    snap = json.loads(st.stdout)
    assert snap["counts"]["unknown"] == 1 and snap["paused"] is False
    assert snap["oldest_open"]["state"] == "unknown"
    assert snap["needs_reauth"] == [
        {"account": "mastodon:news", "reason": "AuthFailed: 401", "channels": ["masto"]}
    ]
    assert {a["key"] for a in snap["alerts"]} == {"unknown:masto", "reauth:mastodon:news"}
    assert [w["id"] for w in snap["workers"]] == ["w-live"]
    text = run.invoke(cli, [*base, "status", "--database", db])
    assert text.exit_code == 0 and "ALERT unknown:masto" in text.output
    assert "needs re-auth: mastodon:news (masto)" in text.output
    audit = run.invoke(cli, [*base, "audit", "--database", db, "--json"])
    assert {a["key"] for a in json.loads(audit.output)["alerts"]} == {
        "unknown:masto",
        "reauth:mastodon:news",
    }


def test_the_stuck_check_is_decided_in_sql_and_names_the_oldest(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker runs this check in its claim loop: it must not read every open delivery
    (store.audit took seconds at 100k queued)."""
    ids = _plan(store, 12)
    clock.advance(11 * 60)

    def no_audit(*_: object, **__: object) -> None:
        raise AssertionError("the stuck check read every open delivery")

    monkeypatch.setattr(store, "audit", no_audit)
    found = alerts.check(settings, store, clock, notify=Outbox()).open
    [stuck] = [i for i in found if i.key == "stuck"]
    assert stuck.summary.startswith("12 delivery(ies) stuck")
    assert f"Oldest: #{ids[0]} on masto (queued" in stuck.detail
    assert stuck.detail.endswith(f"#{ids[9]} and 2 more.")
