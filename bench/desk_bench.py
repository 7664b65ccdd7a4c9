"""The admin home page's queries over a large store: the article log and the attention panel.

Run: .venv/bin/python bench/desk_bench.py [--articles 300000] [--runs 5] [--database URL]
Articles (3 deliveries each: one in 1,000 has an unclear Mastodon post, the rest are posted)
are bulk-inserted into a temporary SQLite store, or into an empty store at `--database` (e.g.
a PostgreSQL database made for it). Figures: best of `--runs` for a page of 30 articles at the
top, at 90 % depth, filtered by a rare state, by channel and by a text search, and the
attention panel (counts and lists). The first search after the fill indexes every post and
title (SQLite: the rows a store took since its last search) and is reported on its own.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import REPO

BATCH = 5000
CHANNELS = (("masto", "mastodon"), ("sky", "bluesky"), ("tg", "telegram"))
T0 = 1.7e9


def fill(store: Any, articles: int) -> None:
    """Insert the rows with SQL in one transaction (the planning path would take minutes)."""
    art, d = store._t["articles"], store._t["deliveries"]
    with store._engine.begin() as conn:
        for start in range(0, articles, BATCH):
            rows, deliveries = [], []
            for i in range(start, min(articles, start + BATCH)):
                aid, ts = f"{i:016x}", T0 + i
                section = "Politik" if i % 3 else None
                rows.append(
                    {
                        "id": aid,
                        "canonical_url": f"https://news.example/{i}",
                        "title": f"Story {i}",
                        "data": {"section": section},
                        "first_seen": ts,
                        "source": "bench",
                    }
                )
                for channel, platform in CHANNELS:
                    unclear = i % 1000 == 0 and channel == "masto"
                    deliveries.append(
                        {
                            "article_id": aid,
                            "channel": channel,
                            "platform": platform,
                            "account_key": f"acct-{channel}",
                            "state": "unknown" if unclear else "sent",
                            "draft": {"text": f"post {i}"},
                            "idem_key": f"{aid}-{channel}",
                            "created_at": ts,
                            "updated_at": ts,
                        }
                    )
            conn.execute(art.insert(), rows)
            conn.execute(d.insert(), deliveries)


def best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(store: Any, articles: int, runs: int) -> None:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from admin_helpers import admin_settings

    from distributor.clock import SYSTEM
    from distributor.store.models import Filters, State
    from distributor.web.admin.attention import gather

    deep = f"{T0 + articles // 10!r}:{articles // 10:016x}"
    cases: dict[str, dict[str, Any]] = {
        "top": {},
        "90% deep": {"after": deep},
        "state=unknown (1 in 1000)": {"filters": Filters(states=(State.UNKNOWN,))},
        "channel=masto": {"filters": Filters(channel="masto")},
        "search": {"filters": Filters(search=f"Story {articles // 2}")},
    }
    for name, kw in cases.items():
        took = best(lambda kw=kw: store.article_log(limit=30, **kw), runs)
        print(f"desk: article log, {name}: {took * 1000:.1f} ms", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = admin_settings(Path(folder), "http://127.0.0.1:9", "sqlite:///unused.db")
        took = best(lambda: gather(store, settings, SYSTEM.now()), runs)
    print(f"desk: attention panel: {took * 1000:.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", help="an empty store to fill (default: temporary SQLite)")
    args = parser.parse_args()
    from distributor.store import open_store
    from distributor.store.models import Filters

    with tempfile.TemporaryDirectory() as folder:
        store = open_store(args.database or f"sqlite:///{Path(folder) / 'desk.db'}")
        try:
            start = time.perf_counter()
            fill(store, args.articles)
            print(
                f"{args.articles} articles, {3 * args.articles} deliveries "
                f"({store.dialect}) filled in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            start = time.perf_counter()
            store.query(Filters(search="first search"), limit=1)  # indexes what was planned
            print(
                f"desk: first search after the fill (indexes every post and title): "
                f"{time.perf_counter() - start:.1f} s",
                flush=True,
            )
            measure(store, args.articles, args.runs)
        finally:
            store.close()


if __name__ == "__main__":
    main()
