"""Store contract: migrations, planning and article identity, concurrent planning."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from store_helpers import article, item

from distributor.errors import ConfigError
from distributor.store import open_store
from distributor.store.migrations import LATEST, migrate
from distributor.store.models import State
from distributor.store.schema import build
from distributor.store.store import Store


def test_migrations_are_idempotent(store: Store, store_url: str) -> None:
    assert migrate(store._engine, build()) == (LATEST, LATEST)
    again = open_store(store_url)
    assert again.counts_by_state()["queued"] == 0
    again.close()


def test_migration_11_drops_the_per_account_index(store: Store) -> None:
    """A store from before 11 has the index; migrating drops it (a fresh store never has it)."""
    import sqlalchemy as sa

    def indexes() -> set[str]:
        return {i["name"] for i in sa.inspect(store._engine).get_indexes("deliveries")}

    assert "ix_deliveries_account" not in indexes()
    with store._engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_deliveries_account ON deliveries (account_key,state)")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 11")
    assert "ix_deliveries_account" in indexes()
    assert migrate(store._engine, build()) == (10, LATEST)
    assert "ix_deliveries_account" not in indexes()


def test_plan_creates_once_and_reports_existing(store: Store) -> None:
    first = store.plan(article(), [item("masto"), item("x", "acct-2", review=True)], source="cli")
    assert [d.state for d in first.created] == [State.QUEUED, State.AWAITING_REVIEW]
    again = store.plan(article(), [item("masto"), item("x", "acct-2")], source="feed")
    assert again.created == () and {d.channel for d in again.existing} == {"masto", "x"}
    assert store.counts_by_state()["queued"] == 1


@pytest.mark.parametrize(
    "variant",
    ["https://news.example/a/1?utm_source=fb#top", "https://NEWS.example/a/1/"],
)
def test_plan_dedupes_by_url_variants(store: Store, variant: str) -> None:
    a = store.plan(article(), [item()])
    b = store.plan(article(variant), [item()])
    assert b.article_id == a.article_id and b.created == ()


def test_plan_dedupes_by_guid_when_url_changed(store: Store) -> None:
    a = store.plan(article(guid="cms-42"), [item()])
    b = store.plan(article("https://news.example/renamed-slug", guid="cms-42"), [item()])
    assert b.article_id == a.article_id and len(b.existing) == 1


def test_the_first_identity_key_that_is_known_names_the_article(store: Store) -> None:
    """Its URL names one stored article and its guid another: the URL (the first key) wins,
    and both keys are looked up in one statement."""
    by_url = store.plan(article("https://news.example/a"), [item()])
    by_guid = store.plan(article("https://news.example/b", guid="cms-7"), [item()])
    both = store.plan(article("https://news.example/a", guid="cms-7"), [item()])
    assert both.article_id == by_url.article_id != by_guid.article_id


def test_repost_is_a_new_generation(store: Store) -> None:
    store.plan(article(), [item()])
    res = store.plan(article(), [item(generation=1)])
    assert len(res.created) == 1 and res.created[0].generation == 1


def _plan_in_child(url: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    s = open_store(url)
    res = s.plan(article(), [item("a", "acct-1"), item("b", "acct-2"), item("c", "acct-3")])
    out.put(len(res.created))
    s.close()


def test_three_processes_plan_each_delivery_once(store: Store, store_url: str) -> None:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_plan_in_child, args=(store_url, q)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sum(q.get(timeout=5) for _ in procs) == 3
    assert store.counts_by_state()["queued"] == 3


def test_bad_url_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="sqlite:///FILE or postgresql"):
        open_store("mysql://x")


def test_integrity_check_is_clean(store: Store) -> None:
    store.plan(article(), [item()])
    assert store.integrity_check() == []


def test_cli_migrate_and_status(store_url: str) -> None:
    from click.testing import CliRunner

    from distributor.cli import cli

    run = CliRunner()
    first = run.invoke(cli, ["migrate", "--database", store_url])
    assert first.exit_code == 0 and f"from version 0 to {LATEST}" in first.output
    assert "up to date" in run.invoke(cli, ["migrate", "--database", store_url]).output
    st = run.invoke(cli, ["status", "--database", store_url, "--json"])
    assert st.exit_code == 0 and '"queued": 0' in st.output
    bad = run.invoke(cli, ["status", "--database", "mysql://nope"])
    assert bad.exit_code != 0 and "sqlite:///FILE" in str(bad.exception)
