"""Send rate against the size of the backlog: is a claim's cost independent of the queue?

Run: .venv/bin/python bench/backlog_bench.py [--sizes 1000 10000 100000] [--sends 600]
For each size, a SQLite store gets that many queued deliveries (articles x 50 channels,
planned as `publish` plans them) and is kept as it is. Then, `--repeats` times, every size in
turn is sent from a fresh copy of its store by one `distributor worker` against the sandbox
(20 ms latency). A figure is the rate of the first `--sends` sends (first to last), so every
size is measured over the same amount of work while the backlog is still almost whole; a size's
rate is the median of its repeats (five by default). 600 sends take about 2 s, so one stall of
the machine moved a single measurement by a quarter, and in two runs of three repeats a size's
single figures spread over 15-20% (bench/NOTES.md); taking the sizes in turn spreads the
machine's drift over all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import statistics
import tempfile
from pathlib import Path
from typing import Any

from common import (
    FANOUT_PLATFORMS,
    NO_QUOTAS,
    OUT,
    completions,
    positive,
    reset_sandbox,
    sandbox,
    save_plot,
    secrets_for,
    write_config,
)
from fanout_bench import plan, run_workers

CHANNELS = len(FANOUT_PLATFORMS) * 10
SECRETS = secrets_for(FANOUT_PLATFORMS, 10)


def planned_store(url: str, work: Path, size: int) -> dict[str, Any]:
    """A store with `size` queued deliveries, kept as planned: its file, config and figures."""
    database = f"sqlite:///{work}/backlog-{size}.db"
    config = write_config(work / f"b{size}.toml", url, database, FANOUT_PLATFORMS, 10)
    plan_s, planned = plan(config, SECRETS, -(-size // CHANNELS), database, f"b{size}-")
    file = work / f"backlog-{size}.db"
    with contextlib.closing(sqlite3.connect(file)) as conn:  # all of it in the file it copies
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"size": size, "file": file, "queued": planned, "plan_s": plan_s}


def one_run(url: str, work: Path, store: dict[str, Any], sends: int, n: int) -> float:
    """Send from a fresh copy of the planned store; the rate of its first `sends` sends."""
    copy = work / f"run-{store['size']}-{n}.db"
    shutil.copyfile(store["file"], copy)
    reset_sandbox(url)  # the same posts as the last copy's run: no duplicates, no history
    database = f"sqlite:///{copy}"
    config = write_config(work / f"r{store['size']}.toml", url, database, FANOUT_PLATFORMS, 10)
    run_workers(config, SECRETS, 1, 50, database, sends)
    times = _sent_times(database)[:sends]
    copy.unlink()
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


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
    parser.add_argument("--repeats", type=positive, default=5, help="runs per size (median)")
    parser.add_argument("--plot", type=Path, default=OUT / "backlog.png")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--latency", "0.02", *NO_QUOTAS) as url,
    ):
        work = Path(tmp)
        stores = []
        for size in args.sizes:
            stores.append(planned_store(url, work, size))
            print(
                f"backlog {stores[-1]['queued']:>7,} queued: planned in "
                f"{stores[-1]['plan_s']:.0f} s",
                flush=True,
            )
        rates: dict[int, list[float]] = {s["size"]: [] for s in stores}
        for n in range(args.repeats):  # the sizes in turn: the machine's drift hits them all
            for store in stores:
                sends = min(args.sends, store["queued"])
                rates[store["size"]].append(one_run(url, work, store, sends, n))
    runs = [
        {
            "queued": s["queued"],
            "plan_s": s["plan_s"],
            "sends": min(args.sends, s["queued"]),
            "per_s": statistics.median(rates[s["size"]]),
            "rates": rates[s["size"]],
        }
        for s in stores
    ]
    for run in runs:
        each = ", ".join(f"{r:.0f}" for r in run["rates"])
        print(
            f"backlog {run['queued']:>7,} queued: {run['per_s']:.0f} sends/s over the first "
            f"{run['sends']} sends (median of {len(run['rates'])} runs: {each})",
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
