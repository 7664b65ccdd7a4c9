"""Send rate against the size of the backlog: is a claim's cost independent of the queue?

Run: .venv/bin/python bench/backlog_bench.py [--sizes 1000 10000 100000] [--sends 600]
For each size, a fresh SQLite store gets that many queued deliveries (articles x 50 channels,
planned as `publish` plans them), then one `distributor worker` sends for a while against the
sandbox (20 ms latency). The figure is the rate of the first `--sends` sends (first to last), so
every size is measured over the same amount of work while the backlog is still almost whole.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    FANOUT_PLATFORMS,
    NO_QUOTAS,
    OUT,
    completions,
    sandbox,
    save_plot,
    secrets_for,
    write_config,
)
from fanout_bench import plan, run_workers

CHANNELS = len(FANOUT_PLATFORMS) * 10


def one_size(url: str, work: Path, size: int, sends: int) -> dict[str, Any]:
    database = f"sqlite:///{work}/backlog-{size}.db"
    config = write_config(work / f"b{size}.toml", url, database, FANOUT_PLATFORMS, 10)
    secrets = secrets_for(FANOUT_PLATFORMS, 10)
    plan_s, planned = plan(config, secrets, -(-size // CHANNELS), database, f"b{size}-")
    run_workers(config, secrets, 1, 50, database, sends)
    times = _sent_times(database)[:sends]
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {"queued": planned, "plan_s": plan_s, "sends": len(times), "per_s": rate}


def _sent_times(database: str) -> list[float]:
    from distributor.store import open_store

    store = open_store(database, migrate=False)
    try:
        return completions(store)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--sends", type=int, default=600, help="sends measured per size")
    parser.add_argument("--plot", type=Path, default=OUT / "backlog.png")
    args = parser.parse_args()
    runs = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--latency", "0.02", *NO_QUOTAS) as url,
    ):
        for size in args.sizes:
            start = time.perf_counter()
            run = one_size(url, Path(tmp), size, min(args.sends, size))
            runs.append(run)
            print(
                f"backlog {run['queued']:>7,} queued: {run['per_s']:.0f} sends/s over the first "
                f"{run['sends']} sends (planned in {run['plan_s']:.0f} s; "
                f"{time.perf_counter() - start:.0f} s in all)",
                flush=True,
            )
    ratio = runs[-1]["per_s"] / max(runs[0]["per_s"], 1e-9)
    print(
        f"backlog: rate at {runs[-1]['queued']:,} queued = {ratio:.2f}x the rate at "
        f"{runs[0]['queued']:,}"
    )
    if args.plot.name:
        plot(runs, args.plot)
        print(f"plot: {args.plot}")
    print("RESULT " + json.dumps({"backlog": {"runs": runs, "ratio": ratio}}))


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    sizes = [r["queued"] for r in runs]
    ax.plot(sizes, [r["per_s"] for r in runs], "o-", label="one worker, 50 in flight")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    save_plot(fig, ax, path, "send rate vs backlog size (SQLite)", "sends/s", "deliveries queued")


if __name__ == "__main__":
    main()
