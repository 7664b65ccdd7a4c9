"""Fan-out: many articles to many accounts through the durable outbox, against a sequential loop.

Run: .venv/bin/python bench/fanout_bench.py [--articles 200] [--accounts 10] [--postgres]
Every platform call goes to a `distributor sandbox` process with 20 ms latency per request.
`distributor` plans every delivery into the store, then `distributor worker` processes send them;
the baseline posts one by one with the same adapters and client libraries, no store (how feed
bots post today), for a bounded time, and its rate is what is compared. The worker's peak RSS is
the memory figure. With --postgres a second run uses PostgreSQL and 4 worker processes. Each
send run is bounded (`--max-seconds`): a run stopped early reports the rate of what it sent.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    CLI,
    FANOUT_PLATFORMS,
    OUT,
    articles,
    completions,
    env,
    sandbox,
    save_plot,
    secrets_for,
    write_config,
)
from pg import postgres_url


def plan(
    config: Path, secrets: dict[str, str], n: int, database: str, tag: str
) -> tuple[float, int]:
    """Plan `n` articles on every channel; (seconds, deliveries)."""
    from distributor.config import load_config
    from distributor.planning import publish

    settings = load_config(config, environ=secrets)
    start = time.perf_counter()
    report = publish(articles(n, tag), config=settings, database=database)
    return time.perf_counter() - start, sum(len(p.created) for p in report.plans)


def run_workers(
    config: Path,
    secrets: dict[str, str],
    workers: int,
    concurrency: int,
    database: str,
    total: int,
    max_seconds: float = 3600.0,
) -> tuple[float, float, float]:
    """`workers` worker processes until every delivery is settled (or `max_seconds` passed),
    then SIGTERM (a worker stopping gracefully); (seconds, peak RSS MB of the largest one,
    CPU seconds of all of them)."""
    argv = [CLI, "worker", "--config", str(config), "--no-reconcile", "--poll", "0.05"]
    argv += ["--concurrency", str(concurrency)]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(argv, env={**env(), **secrets}, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        while settled(database) < total and all(p.poll() is None for p in procs):
            if time.perf_counter() - start >= max_seconds:
                break
            time.sleep(0.1)
        took = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
    peak, cpu = 0.0, 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"worker exited with {proc.returncode}")
        peak = max(peak, usage.ru_maxrss / 1024)
        cpu += usage.ru_utime + usage.ru_stime
    return took, peak, cpu


def settled(database: str) -> int:
    return sum(n for s, n in outcome(database)[0].items() if s in ("sent", "failed", "unknown"))


def outcome(database: str, times: bool = False) -> tuple[dict[str, int], list[float]]:
    import sqlalchemy as sa

    from distributor.store import open_store

    store = open_store(database, migrate=False)
    try:
        t = store._t["deliveries"]
        with store._engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.state, sa.func.count()).group_by(t.c.state)).all()
        return {str(s): int(c) for s, c in rows}, completions(store) if times else []
    finally:
        store.close()


def server_errors(url: str, since: float) -> dict[str, int]:
    """5xx answers of the sandbox since `since` by platform, method and route (its log)."""
    import requests

    found: dict[str, int] = {}
    for e in requests.get(f"{url}/__sandbox/requests", timeout=10).json():
        if e["status"] >= 500 and e["time"] >= since:
            key = f"{e['platform']} {e['method']} {e['route']} {e['status']}"
            found[key] = found.get(key, 0) + 1
    return found


def why_not_sent(database: str) -> dict[str, int]:
    """Error kinds of the deliveries that did not end `sent` (e.g. read timeouts: unknown)."""
    import sqlalchemy as sa

    from distributor.store import open_store

    store = open_store(database, migrate=False)
    try:
        t = store._t["deliveries"]
        query = sa.select(t.c.state, t.c.last_error, sa.func.count())
        query = query.where(t.c.state != "sent").group_by(t.c.state, t.c.last_error)
        a = store._t["attempts"]
        tries = sa.select(a.c.outcome, a.c.error_kind, a.c.detail).where(
            a.c.delivery_id.in_(sa.select(t.c.id).where(t.c.state == "unknown"))
        )
        with store._engine.connect() as conn:
            found = {f"{s}: {(e or '')[:80]}": int(n) for s, e, n in conn.execute(query).all()}
            for outcome, kind, detail in conn.execute(tries).all():  # every try of each unknown
                key = f"attempt {outcome} {kind}: {(detail or '')[:80]}"
                found[key] = found.get(key, 0) + 1
            return found
    finally:
        store.close()


def baseline(config: Path, secrets: dict[str, str], n: int, seconds: float) -> tuple[int, float]:
    """Post one by one (render, publish), article by article, channel by channel, for at most
    `seconds`; (posts, seconds)."""
    from distributor.config import load_config
    from distributor.platforms.registry import build_adapter
    from distributor.render import render

    settings = load_config(config, environ=secrets)
    adapters = {c.name: build_adapter(c, settings) for c in settings.channels}
    done, start = 0, time.perf_counter()
    for i, article in enumerate(articles(n, tag="baseline-")):
        for channel in settings.channels:
            draft = render(article, channel, settings=settings)
            adapters[channel.name].publish(draft, key=f"baseline-{i}-{channel.name}")
            done += 1
            if time.perf_counter() - start >= seconds:
                return done, time.perf_counter() - start
    return done, time.perf_counter() - start


def fanout(
    url: str, work: Path, database: str, args: argparse.Namespace, workers: int
) -> dict[str, Any]:
    secrets = secrets_for(FANOUT_PLATFORMS, args.accounts)
    config = write_config(
        work / f"fanout-{workers}.toml", url, database, FANOUT_PLATFORMS, args.accounts
    )
    plan_s, planned = plan(config, secrets, args.articles, database, f"{workers}-")
    began = time.time()
    per_worker = max(1, args.concurrency // workers)
    send_s, rss, cpu = run_workers(
        config, secrets, workers, per_worker, database, planned, args.max_seconds
    )
    states, times = outcome(database, times=True)
    errors = server_errors(url, began)
    if errors:
        print(f"sandbox answered 5xx during the {database.split(':')[0]} run: {errors}")
    sent = states.get("sent", 0)
    if sent < planned:
        states["why not sent"] = why_not_sent(database)
    return {
        "database": database.split(":", 1)[0],
        "workers": workers,
        "deliveries": planned,
        "states": states,
        "plan_s": plan_s,
        "send_s": send_s,
        "per_s": sent / send_s,
        "end_to_end_per_s": sent / (plan_s + send_s),
        "peak_rss_mb": rss,
        "worker_cpu_s": cpu,
        "cpu_ms_per_delivery": 1000 * cpu / max(sent, 1),
        "steady_per_s": (len(times) - 1) / times[-1] if len(times) > 1 and times[-1] else 0.0,
        "times": times,
    }


def plot(runs: list[dict[str, Any]], base_rate: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        times = run["times"]
        label = f"{run['database']}, {run['workers']} worker(s): {run['per_s']:.0f}/s"
        ax.plot(times, range(1, len(times) + 1), label=label)
    if runs and runs[0]["times"]:
        end = runs[0]["times"][-1]
        ax.plot([0, end], [0, base_rate * end], "--", label=f"sequential loop: {base_rate:.0f}/s")
    title = "fanout: deliveries over time (sandbox latency 20 ms)"
    save_plot(fig, ax, path, title, "deliveries sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=10, help="accounts per platform")
    parser.add_argument("--concurrency", type=int, default=50, help="sends in flight per worker")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=80.0,
        help="bound of each send run (rate of what was sent)",
    )
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL, 4 workers")
    parser.add_argument("--plot", type=Path, default=OUT / "fanout.png")
    args = parser.parse_args()
    # X's default 100 posts per 15 min per account would cap the run, not distributor.
    limit = "x:create:1000000/1"
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--latency", str(args.latency), "--limit", limit) as url,
    ):
        work = Path(tmp)
        runs = [fanout(url, work, f"sqlite:///{work}/fanout.db", args, 1)]
        secrets = secrets_for(FANOUT_PLATFORMS, args.accounts)
        config = work / "fanout-1.toml"
        posts, secs = baseline(config, secrets, args.articles, args.baseline_seconds)
        base_rate = posts / secs
        pg_note = ""
        if args.postgres:
            with postgres_url(work) as (pg, pg_note):
                if pg:
                    runs.append(fanout(url, work, pg, args, 4))
    sq = runs[0]
    print(
        f"fanout: {sq['deliveries']} deliveries ({args.articles} articles x "
        f"{len(FANOUT_PLATFORMS) * args.accounts} channels), states {sq['states']}"
    )
    print(
        f"  plan {sq['plan_s']:.1f} s, send {sq['send_s']:.1f} s: {sq['per_s']:.0f} deliveries/s "
        f"({sq['end_to_end_per_s']:.0f}/s including planning; {sq['steady_per_s']:.0f}/s first "
        f"to last send, without worker start-up)"
    )
    print(
        f"  worker CPU {sq['worker_cpu_s']:.1f} s over {sq['send_s']:.1f} s = "
        f"{sq['cpu_ms_per_delivery']:.1f} ms CPU per delivery"
    )
    print(
        f"  baseline sequential loop: {posts} posts in {secs:.1f} s = {base_rate:.1f}/s; "
        f"ratio {sq['per_s'] / base_rate:.1f}x"
    )
    print(f"memory: worker peak RSS {sq['peak_rss_mb']:.0f} MB")
    result: dict[str, Any] = {
        "fanout": {k: v for k, v in sq.items() if k != "times"},
        "baseline_per_s": base_rate,
        "ratio": sq["per_s"] / base_rate,
    }
    if len(runs) > 1:
        pg_run = runs[1]
        ratio = pg_run["per_s"] / sq["per_s"]
        print(
            f"postgres: 4 workers {pg_run['per_s']:.0f}/s, states {pg_run['states']}, "
            f"peak RSS {pg_run['peak_rss_mb']:.0f} MB; ratio {ratio:.2f}x SQLite 1 worker"
        )
        result["postgres"] = {k: v for k, v in pg_run.items() if k != "times"}
        result["postgres_ratio"] = ratio
    elif args.postgres:
        print(f"postgres: skipped ({pg_note})")
        result["postgres_skipped"] = pg_note
    if args.plot.name:
        plot(runs, base_rate, args.plot)
        print(f"plot: {args.plot}")
    print("RESULT " + json.dumps({"fanout": result}))


if __name__ == "__main__":
    main()
