"""Store contract for alert incidents: one open row per key, atomic notify claims, resolution."""

from __future__ import annotations

from datetime import timedelta

from store_helpers import T0, article, attempt, item

from distributor.store.store import Store
from distributor.testing import FakeClock


def test_an_incident_opens_once_and_notifies_once(store: Store, clock: FakeClock) -> None:
    first = store.raise_alert("unknown:masto", "unknown", "1 unknown", remind_after=3600)
    assert first is not None and first.open and first.key == "unknown:masto"
    store.alert_notified(first.id, True, "sent to ALERT_URL")
    clock.advance(120)
    assert store.raise_alert("unknown:masto", "unknown", "2 unknown", remind_after=3600) is None
    [row] = store.alerts()
    assert row.summary == "2 unknown" and row.notifications == 1 and row.notify_ok is True


def test_a_reminder_is_claimed_by_one_caller(store: Store, clock: FakeClock) -> None:
    a = store.raise_alert("stuck", "stuck", "stuck", remind_after=600)
    assert a is not None
    store.alert_notified(a.id, True, "ok")
    clock.advance(601)
    again = store.raise_alert("stuck", "stuck", "stuck", remind_after=600)
    assert again is not None and again.id == a.id and again.notifications == 1
    assert store.raise_alert("stuck", "stuck", "stuck", remind_after=600) is None


def test_a_failed_notification_is_retried_after_a_minute(store: Store, clock: FakeClock) -> None:
    a = store.raise_alert("worker:w1", "worker", "silent")
    assert a is not None
    store.alert_notified(a.id, False, "FAILED for ALERT_URL")
    assert store.raise_alert("worker:w1", "worker", "silent") is None
    clock.advance(61)
    assert store.raise_alert("worker:w1", "worker", "silent") is not None


def test_resolved_then_reopened_is_a_new_incident(store: Store, clock: FakeClock) -> None:
    a = store.raise_alert("reauth:x:me", "reauth", "re-auth")
    assert a is not None
    store.raise_alert("stuck", "stuck", "stuck")
    clock.advance(10)
    resolved = store.resolve_alerts({"stuck"}, ["reauth", "stuck"])
    assert [r.key for r in resolved] == ["reauth:x:me"]
    assert resolved[0].resolved_at == T0 + timedelta(seconds=10)
    b = store.raise_alert("reauth:x:me", "reauth", "re-auth again")
    assert b is not None and b.id != a.id
    assert {x.key for x in store.alerts(open_only=True)} == {"reauth:x:me", "stuck"}
    assert len(store.alerts()) == 3


def test_resolve_touches_only_the_kinds_checked(store: Store) -> None:
    store.raise_alert("custom:thing", "custom", "other")
    assert store.resolve_alerts([], ["stuck"]) == []
    assert [a.key for a in store.alerts(open_only=True)] == ["custom:thing"]


def test_failure_counts_and_reauth_accounts(store: Store, clock: FakeClock) -> None:
    res = store.plan(article(), [item("masto", "acct-1")])
    [claimed] = store.claim("w1", lease_seconds=60)
    fence = claimed.fence
    store.mark_sending(res.created[0].id, fence)
    store.record_attempt(res.created[0].id, fence, attempt(T0, "retry", "NotSent"))
    store.finish(res.created[0].id, fence, "unknown", attempt(T0, "unknown", "MaybeSent"))
    counts = store.failure_counts(T0 - timedelta(minutes=1))
    assert counts == {("masto", "NotSent"): 1, ("masto", "MaybeSent"): 1}
    assert store.failure_counts(T0 + timedelta(minutes=5)) == {}
    store.mark_reauth("acct-1", "AuthFailed: 401")
    assert store.reauth_accounts() == {"acct-1": "AuthFailed: 401"}
    store.heartbeat("w9")
    store.heartbeat("w8")
    store.worker_stopped("w8")
    store.forget_worker("w9")
    [w] = store.workers()
    assert w["id"] == "w8" and w["stopped_at"] == T0
    store.heartbeat("w8")  # the same worker runs again: no longer stopped
    [w] = store.workers()
    assert w["stopped_at"] is None


def test_a_version_1_store_gains_the_alerts_table(store_url: str) -> None:
    """Upgrading: a store made before alerts existed migrates in place, rows kept."""
    import sqlalchemy as sa

    from distributor.store import migrate_store, open_store
    from distributor.store.engine import make_engine
    from distributor.store.schema import build

    engine = make_engine(store_url)
    md = build()
    with engine.begin() as conn:
        for name, table in md.tables.items():
            if name not in ("alerts", "workers"):
                table.create(conn)
        conn.execute(  # the version 1 shape of `workers`, with a row
            sa.text(
                "CREATE TABLE workers (id VARCHAR(200) PRIMARY KEY, heartbeat_at FLOAT NOT NULL,"
                " pid INTEGER, host TEXT)"
            )
        )
        conn.execute(sa.text("INSERT INTO workers VALUES ('old', 1.0, 1, 'h')"))
        conn.execute(md.tables["schema_version"].insert().values(version=1, applied_at=0.0))
    engine.dispose()
    assert migrate_store(store_url)[0] == 1
    store = open_store(store_url)
    try:
        assert store.raise_alert("stuck", "stuck", "s") is not None
        store.worker_stopped("old")
        [w] = store.workers()
        assert w["id"] == "old" and w["stopped_at"] is not None
        with store._engine.connect() as conn:
            assert sa.inspect(conn).has_table("alerts")
    finally:
        store.close()
