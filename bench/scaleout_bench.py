"""Scale-out on PostgreSQL: do N worker processes send N times as fast when CPU is not the limit?

Run: .venv/bin/python bench/scaleout_bench.py [--workers 1 2 4] [--latency 0.2] [--concurrency 4]
The sandbox answers every request after `--latency` seconds (200 ms: a slow platform, so each
process waits on the network, not on the CPU). Each process sends with a fixed `--concurrency`;
for N = 1, 2, 4 processes against one fresh PostgreSQL database each, the figure is the send
rate after the first `--warmup` seconds of sending. Coordination (leases, SKIP LOCKED, shared
rate windows) scales when the rate with N processes is close to N times the rate with one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from common import FANOUT_PLATFORMS, NO_QUOTAS, completions, sandbox, secrets_for, write_config
from fanout_bench import plan, run_workers
from pg import postgres_url


def _database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def one_run(url: str, work: Path, server: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from distributor.store import open_store

    database = _database(server, f"scale_{n}")
    config = write_config(work / f"s{n}.toml", url, database, FANOUT_PLATFORMS, 10)
    secrets = secrets_for(FANOUT_PLATFORMS, 10)
    # enough work that no run runs dry: N x concurrency / latency x seconds, twice over
    need = int(2 * n * args.concurrency / args.latency * args.seconds)
    _, planned = plan(config, secrets, -(-need // 50), database, f"s{n}-")
    run_workers(config, secrets, n, args.concurrency, database, planned, args.seconds)
    store = open_store(database, migrate=False)
    try:
        times = completions(store)
    finally:
        store.close()
    # The rate after every process has started and filled its slots (start-up is not scale-out).
    steady = [t for t in times if t >= args.warmup]
    span = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    rate = (len(steady) - 1) / span if span else 0.0
    return {"workers": n, "sent": len(times), "per_s": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4, help="sends in flight per process")
    parser.add_argument("--seconds", type=float, default=25.0, help="send time per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--latency", str(args.latency), *NO_QUOTAS) as url,
        postgres_url(Path(tmp)) as (server, note),
    ):
        if server is None:
            print(f"scaleout: skipped ({note})")
            print("RESULT " + json.dumps({"scaleout": {"skipped": note}}))
            return
        runs = [one_run(url, Path(tmp), server, n, args) for n in args.workers]
    one = runs[0]["per_s"] or 1e-9
    for run in runs:
        run["ratio"] = run["per_s"] / one
        print(
            f"scaleout: {run['workers']} worker process(es) x {args.concurrency} in flight: "
            f"{run['per_s']:.1f} sends/s = {run['ratio']:.2f}x one process "
            f"(ideal {run['workers']}x; {run['sent']} sent, latency {args.latency:g} s)"
        )
    print("RESULT " + json.dumps({"scaleout": {"runs": runs, "latency": args.latency}}))


if __name__ == "__main__":
    main()
