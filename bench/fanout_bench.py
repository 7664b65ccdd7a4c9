"""Fan-out: many articles to many accounts through the durable outbox, against a store-less sender.

Run: .venv/bin/python bench/fanout_bench.py [--articles 200] [--accounts 10]
Every platform call goes to a `distributor sandbox` process with 20 ms latency per request.
`distributor` plans every delivery into the store, then one `distributor worker` sends them with
`--concurrency` threads; the yardstick (bench/storeless.py) sends with the same adapters on the
same number of threads without the store, in the same run. The ratio of the two rates (first to
last send) is what durability costs. The worker's peak RSS is the memory figure. Each send run
is bounded (`--max-seconds`): a run stopped early reports the rate of what it sent.
"""

from __future__ import annotations

import argparse
import contextlib
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
    NO_QUOTAS,
    OUT,
    add_usage,
    articles,
    completions,
    env,
    new_usage,
    per_delivery,
    reset_sandbox,
    sandbox,
    save_plot,
    secrets_for,
    usage_line,
    write_config,
)
from storeless import storeless


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
        with contextlib.closing(_connect(database)) as conn:  # one connection for every look
            while (done := settled(conn)) < total and all(p.poll() is None for p in procs):
                if time.perf_counter() - start >= max_seconds:
                    break
                if done and STEADY["from"] is None:  # sending has begun: start-up is over
                    STEADY.update({"from": _cpu(procs), "done": done})
                time.sleep(0.1)
        took = time.perf_counter() - start
        if STEADY["from"] is not None:
            STEADY.update({"cpu": _cpu(procs) - STEADY["from"], "done": done - STEADY["done"]})
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
    peak, cpu = 0.0, 0.0
    USAGE.update(new_usage())
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        # -SIGTERM: stopped while still starting up (before its handler was installed)
        if proc.returncode not in (0, -signal.SIGTERM):
            raise RuntimeError(f"worker exited with {proc.returncode}")
        peak = max(peak, usage.ru_maxrss / 1024)
        cpu += usage.ru_utime + usage.ru_stime
        add_usage(USAGE, usage)
    return took, peak, cpu


# The workers' rusage beyond CPU and memory over their last run (whole processes, start-up
# included): kernel CPU and context switches. A thread that finds the GIL taken when its I/O
# or SQLite call returns sleeps until it is handed back: a voluntary switch.
USAGE: dict[str, float] = new_usage()

# The workers' CPU from their first settled delivery to the end (start-up excluded), for the
# report beside the whole run's; reset by `run_workers`'s caller when it wants it.
STEADY: dict[str, Any] = {"from": None}


def _cpu(procs: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds of running processes, from /proc."""
    total = 0.0
    for proc in procs:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def settled(conn: Any) -> int:
    """Deliveries that reached a final state, read on `conn` from `_connect`: a count over the
    state index's final states only (counting every state read the whole index ten times a
    second, a harness cost that grew with the backlog measured)."""
    sql = "SELECT count(*) FROM deliveries WHERE state IN ('sent', 'failed', 'unknown')"
    return int(conn.execute(sql).fetchone()[0])


def _connect(database: str) -> Any:
    """A plain reading connection: SQLite opened read-only (the store's own connections begin
    IMMEDIATE, which would compete with the workers measured), PostgreSQL in autocommit (a
    look is one statement; no new server process per look either)."""
    if database.startswith("sqlite:///"):
        import sqlite3

        path = database.removeprefix("sqlite:///")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    import psycopg

    return psycopg.connect(database, autocommit=True)


def read_states(conn: Any) -> dict[str, int]:
    """Deliveries per state."""
    rows = conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
    return {str(s): int(n) for s, n in rows}


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
    STEADY.clear()
    STEADY["from"] = None
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
        "steady_cpu_ms_per_delivery": 1000 * STEADY.get("cpu", 0.0) / max(STEADY.get("done", 0), 1),
        "steady_per_s": (len(times) - 1) / times[-1] if len(times) > 1 and times[-1] else 0.0,
        "per_delivery": per_delivery(USAGE, sent),
        "times": times,
    }


def plot(run: dict[str, Any], yard: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    label = f"worker with the store: {run['steady_per_s']:.0f}/s"
    ax.plot(run["times"], range(1, len(run["times"]) + 1), label=label)
    label = f"store-less sender, same threads: {yard['steady_per_s']:.0f}/s"
    ax.plot(yard["times"], range(1, len(yard["times"]) + 1), "--", label=label)
    title = "fanout: deliveries over time (sandbox latency 20 ms)"
    save_plot(fig, ax, path, title, "deliveries sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=10, help="accounts per platform")
    parser.add_argument("--concurrency", type=int, default=50, help="sends in flight per worker")
    parser.add_argument("--yardstick-seconds", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=80.0,
        help="bound of each send run (rate of what was sent)",
    )
    parser.add_argument("--plot", type=Path, default=OUT / "fanout.png")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--latency", str(args.latency), *NO_QUOTAS) as url,
    ):
        work = Path(tmp)
        sq = fanout(url, work, f"sqlite:///{work}/fanout.db", args, 1)
        secrets = secrets_for(FANOUT_PLATFORMS, args.accounts)
        # the worker's posts gone: the emulators' duplicate checks grow with their history,
        # and the sandbox shares the two cores with the sender
        reset_sandbox(url)
        yard = storeless(
            work / "fanout-1.toml", secrets, args.articles, args.concurrency, args.yardstick_seconds
        )
    ratio = sq["steady_per_s"] / max(yard["steady_per_s"], 1e-9)
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
        f"{sq['cpu_ms_per_delivery']:.1f} ms CPU per delivery with start-up, "
        f"{sq['steady_cpu_ms_per_delivery']:.1f} ms from the first settled delivery on"
    )
    print(f"    per delivery: {usage_line(sq['per_delivery'])}")
    print(
        f"  store-less sender, {args.concurrency} threads: {yard['sent']} posts in "
        f"{yard['seconds']:.1f} s, {yard['steady_per_s']:.0f}/s first to last send, "
        f"{yard['cpu_ms_per_delivery']:.1f} ms "
        f"CPU per delivery; worker/store-less ratio {ratio:.2f}x"
    )
    print(f"    per delivery: {usage_line(yard['per_delivery'])}")
    print(f"memory: worker peak RSS {sq['peak_rss_mb']:.0f} MB")
    result: dict[str, Any] = {
        "fanout": {k: v for k, v in sq.items() if k != "times"},
        "storeless": {k: v for k, v in yard.items() if k != "times"},
        "ratio": ratio,
    }
    if args.plot.name:
        plot(sq, yard, args.plot)
        print(f"plot: {args.plot}")
    print("RESULT " + json.dumps({"fanout": result}))


if __name__ == "__main__":
    main()
