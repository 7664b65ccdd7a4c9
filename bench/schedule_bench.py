"""Scheduling: a burst of articles on several channels with `min_gap`, against the ideal schedule.

Run: .venv/bin/python bench/schedule_bench.py [--articles 200] [--channels 7] [--gap 600]
     [--real-gap 0.1]

Both runs plan every article on every channel at once (the burst), then send:

- `virtual`: in virtual time (FakeClock, as the tests), three dispatchers sharing one SQLite
  store, in-process adapters; `min_gap` = --gap seconds (10 minutes by default). It measures the
  scheduling logic exactly, not a machine.
- `real`: in real time, the sandbox and three `distributor worker` processes on one SQLite store,
  `min_gap` = --real-gap seconds, so the same burst takes seconds, not days.

Ideal: a channel's posts exactly `min_gap` apart from its first, so (articles - 1) x min_gap.
Measured: per channel, from its first post to its last; the worst channel is reported. A post's
time is when its delivery was committed as `sending` (its attempt's `started_at`; the HTTP
request follows within milliseconds). `gaps shorter` counts consecutive posts of one channel
closer than `min_gap`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from common import articles, sandbox, secrets_for, write_config
from fanout_bench import run_workers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def post_times(database: str) -> dict[str, list[float]]:
    """Per channel, the start of each successful attempt (the `sending` moment), in order."""
    import sqlalchemy as sa

    from distributor.store import open_store

    store = open_store(database, migrate=False)
    try:
        d, a = store._t["deliveries"], store._t["attempts"]
        sel = (
            sa.select(d.c.channel, a.c.started_at)
            .select_from(a.join(d, a.c.delivery_id == d.c.id))
            .where(a.c.outcome == "sent")
            .order_by(a.c.started_at)
        )
        with store._engine.connect() as conn:
            found: dict[str, list[float]] = {}
            for channel, at in conn.execute(sel):
                found.setdefault(channel, []).append(float(at))
        return found
    finally:
        store.close()


def measure(times: dict[str, list[float]], gap: float, n: int) -> dict[str, Any]:
    ideal = (n - 1) * gap
    spans = {c: t[-1] - t[0] for c, t in times.items() if t}
    gaps = [b - a for t in times.values() for a, b in itertools.pairwise(t)]
    worst = max(spans.values(), default=0.0)
    return {
        "posts": sum(len(t) for t in times.values()),
        "channels": len(times),
        "span_s": worst,
        "ideal_s": ideal,
        "ratio": worst / ideal if ideal else 1.0,
        "shortest_gap_s": min(gaps, default=0.0),
        "median_gap_s": sorted(gaps)[len(gaps) // 2] if gaps else 0.0,
        "longest_gap_s": max(gaps, default=0.0),
        "gaps_shorter": sum(g < gap for g in gaps),
        "min_gap_s": gap,
    }


def virtual(n: int, channels: int, gap: float, work: Path) -> dict[str, Any]:
    """Three dispatchers in threads on one SQLite store, virtual time jumping between slots."""
    from datetime import UTC, datetime

    from distributor.config import Channel, Settings
    from distributor.dispatch import Dispatcher, Policy
    from distributor.planning import publish
    from distributor.store import open_store
    from distributor.testing import FakeAdapter, FakeClock

    clock = FakeClock(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    url = f"sqlite:///{work / 'virtual.db'}"
    chans = tuple(
        Channel(f"m{i}", "mastodon", account=f"acct-{i}", min_gap=gap) for i in range(channels)
    )
    conf = Settings(path=None, channels=chans, timezone="Europe/Berlin")
    stores = [open_store(url, clock=clock) for _ in range(3)]
    publish(articles(n, "v"), config=conf, store=stores[0], clock=clock)
    fakes = {c.name: FakeAdapter() for c in chans}
    disps = [
        Dispatcher(
            conf,
            s,
            adapter_for=lambda ch: fakes[ch.name],
            clock=clock,
            worker_id=f"w{i}",
            concurrency=8,
            policy=Policy(),
        )
        for i, s in enumerate(stores)
    ]
    _rounds(disps, clock)
    for s in stores:
        s.close()
    return measure(post_times(url), gap, n)


def _rounds(disps: list[Any], clock: Any) -> None:
    """Each round every dispatcher claims once; when none claimed anything, time jumps to the
    next due moment (the store's `next_due`)."""
    claimed = [0] * len(disps)
    done = threading.Event()

    def tick() -> None:
        if not any(claimed):
            due = disps[0].store.next_due()
            if due is None:
                done.set()
            else:
                clock.advance(max((due - clock.now()).total_seconds(), 0.001))
        claimed[:] = [0] * len(disps)

    barrier = threading.Barrier(len(disps), action=tick)

    def work(i: int) -> None:
        while not done.is_set():
            claimed[i] = len(disps[i].run_once())
            barrier.wait(timeout=120)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(disps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def real(n: int, channels: int, gap: float, work: Path, workers: int = 3) -> dict[str, Any]:
    """The sandbox and `workers` worker processes, in real time."""
    from distributor.config import load_config
    from distributor.planning import publish

    database = f"sqlite:///{work / 'real.db'}"
    with sandbox() as url:
        config = write_config(work / "real.toml", url, database, ["mastodon"], channels)
        text = config.read_text(encoding="utf-8")
        spaced = f'platform = "mastodon"\nmin_gap = "{gap}s"\n'
        config.write_text(text.replace('platform = "mastodon"\n', spaced), encoding="utf-8")
        secrets = secrets_for(["mastodon"], channels)
        report = publish(
            articles(n, "r"), config=load_config(config, environ=secrets), database=database
        )
        total = sum(len(p.created) for p in report.plans)
        took, _, _ = run_workers(
            config, secrets, 3, 8, database, total, max_seconds=n * gap * 3 + 60
        )
    out = measure(post_times(database), gap, n)
    out["with_worker_start_s"] = took
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=200)
    p.add_argument("--channels", type=int, default=7)
    p.add_argument("--gap", type=float, default=600.0, help="min_gap in virtual time, seconds")
    p.add_argument("--real-gap", type=float, default=0.25, help="min_gap in real time, seconds")
    p.add_argument("--workers", type=int, default=3, help="worker processes in real time")
    args = p.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = (
            ("virtual", lambda: virtual(args.articles, args.channels, args.gap, Path(tmp))),
            (
                "real",
                lambda: real(args.articles, args.channels, args.real_gap, Path(tmp), args.workers),
            ),
        )
        for mode, run in runs:
            r = run()
            gap = r["min_gap_s"]
            results[mode] = r
            print(
                f"schedule ({mode} time): {r['posts']} posts on {r['channels']} channels, "
                f"min_gap {gap:g} s: {r['span_s']:.2f} s vs ideal {r['ideal_s']:.2f} s = "
                f"{r['ratio']:.3f}x (goal <= 1.05x); shortest gap {r['shortest_gap_s']:.3f} s, "
                f"{r['gaps_shorter']} gaps shorter than min_gap",
                flush=True,
            )
    print("RESULT " + json.dumps({"schedule": results}))


if __name__ == "__main__":
    main()
