"""Scale-out on PostgreSQL: do N worker processes send N times as fast when CPU is not the limit?

Run: .venv/bin/python bench/scaleout_bench.py [--workers 1 2 4] [--latency 0.2] [--concurrency 4]
The sandbox answers every request after `--latency` seconds (200 ms: a slow platform, so each
process waits on the network, not on the CPU). Each process sends with a fixed `--concurrency`;
for N = 1, 2, 4 processes against one fresh PostgreSQL database each, the figure is the send
rate once every process is warm: from the moment each process has finished its first send on
every platform (each loads its platform SDKs and logs in on first use, seconds per process on a
busy machine, and N processes do it at once), and no earlier than `--warmup` seconds. Start-up
is not scale-out; the output says how long it took. Coordination (leases, per-account claim
locks, shared rate windows) scales when the rate with N processes is close to N times one.

Accounts: one send in flight per account is the design, so the run needs more accounts than
sends in flight or it measures the accounts, not the workers: each platform gets
`max(10, 2 x N x concurrency / platforms)` accounts (N = 4 x 4 in flight: 50 accounts for 16
slots), so at most a third of them are busy at any time.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from common import FANOUT_PLATFORMS, NO_QUOTAS, reset_sandbox, sandbox, secrets_for, write_config
from fanout_bench import plan, run_workers
from pg import postgres_url


def _database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def one_run(url: str, work: Path, server: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    database = _database(server, f"scale_{n}")
    reset_sandbox(url)  # each N against a sandbox without the last run's posts
    accounts = max(10, -(-2 * n * args.concurrency // len(FANOUT_PLATFORMS)))
    config = write_config(work / f"s{n}.toml", url, database, FANOUT_PLATFORMS, accounts)
    secrets = secrets_for(FANOUT_PLATFORMS, accounts)
    # warming up may take longer than --warmup on a busy machine: room for three times that
    seconds = args.seconds + 3 * args.warmup
    # enough work that no run runs dry: the ideal rate (N x concurrency / latency), and a fifth
    need = int(1.2 * n * args.concurrency / args.latency * seconds)
    channels = accounts * len(FANOUT_PLATFORMS)
    _, planned = plan(config, secrets, -(-need // channels), database, f"s{n}-")
    _, _, cpu = run_workers(config, secrets, n, args.concurrency, database, planned, seconds)
    times, warm = _sends(database)
    # The rate after every process has sent once on every platform (start-up is not scale-out).
    start = max(args.warmup, warm)
    steady = [t for t in times if t >= start]
    span = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    rate = (len(steady) - 1) / span if span else 0.0
    return {
        "workers": n,
        "accounts": channels,
        "sent": len(times),
        "warm_s": round(warm, 1),
        "window_s": round(span, 1),
        "per_s": rate,
        # what the workers cost: if N processes need more CPU than the machine gives them, CPU
        # is the limit, not the coordination (the load average says how busy the machine was)
        "cpu_ms_per_send": round(1000 * cpu / len(times), 1) if times else None,
        "load": round(os.getloadavg()[0], 1),
    }


def _sends(database: str) -> tuple[list[float], float]:
    """Finish times of every send (seconds from the first), and when the last process had
    finished its first send on every platform (when the run was warm)."""
    import psycopg

    query = (
        "SELECT a.finished_at, a.worker, d.platform FROM attempts a"
        " JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'sent'"
        " ORDER BY a.finished_at"
    )
    with psycopg.connect(database) as conn:
        found = [(float(t), w, p) for t, w, p in conn.execute(query).fetchall()]
    if not found:
        return [], 0.0
    first: dict[tuple[str, str], float] = {}
    for t, w, p in found:
        first.setdefault((w, p), t - found[0][0])
    return [t - found[0][0] for t, _, _ in found], max(first.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4, help="sends in flight per process")
    parser.add_argument("--seconds", type=float, default=25.0, help="measured send time per run")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds not measured (at least; see above)"
    )
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
            f"(ideal {run['workers']}x; {run['sent']} sent to {run['accounts']} accounts, "
            f"measured {run['window_s']:g} s after {run['warm_s']:g} s warming up, "
            f"{run['cpu_ms_per_send']} ms worker CPU per send with start-up, load {run['load']:g}, "
            f"latency {args.latency:g} s)"
        )
    print("RESULT " + json.dumps({"scaleout": {"runs": runs, "latency": args.latency}}))


if __name__ == "__main__":
    main()
