"""Rate limits: many posts to one account whose platform allows N per window, against the ideal.

Run: .venv/bin/python bench/ratelimit_bench.py [--posts 300] [--limit 30] [--window 3]
The sandbox enforces `limit` creates per `window` seconds on one X account (fixed windows, as X
counts them) and answers 429 beyond it. `ratelimit`: the channel declares `rate = "30/3s"`, so
dispatch paces from its own counts. `headers`: the channel declares no rate; dispatch only learns
the limit from the `x-rate-limit-*` headers of each answer (Receipt.extra rate_remaining/reset;
X gives the reset in whole epoch seconds). `headers (mastodon)`: the same with Mastodon's
`X-RateLimit-*` headers, whose reset is an ISO-8601 time with microseconds.
The ideal schedule is (posts / limit) x window; the measured one runs from the first send to the
last plus one window (worker start-up is shown apart); 429 answers are counted from the sandbox
log. For X a second, rounding-aware ideal is reported beside it: X's reset is in whole seconds,
so no client that obeys X's headers can open a window before a whole second, and every window
but the last lasts floor(window) + 1 seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import requests
from common import OUT, reset_sandbox, sandbox, save_plot, secrets_for, set_limit, write_config
from fanout_bench import outcome, plan, run_workers

MODES = {"ratelimit": "x", "headers": "x", "headers (mastodon)": "mastodon"}


def one_run(url: str, work: Path, args: argparse.Namespace, mode: str) -> dict[str, Any]:
    platform = MODES[mode]
    reset_sandbox(url)
    set_limit(url, f"{platform}:create:{args.limit}/{args.window}")
    name = mode.split()[0] + "-" + platform
    database = f"sqlite:///{work}/{name}.db"
    rate = f"{args.limit}/{args.window}s" if mode == "ratelimit" else None
    config = write_config(work / f"{name}.toml", url, database, [platform], 1, rate=rate)
    secrets = secrets_for([platform], 1)
    _, planned = plan(config, secrets, args.posts, database, f"{name}-")
    took, _, _ = run_workers(config, secrets, 1, 4, database, planned)
    states, times = outcome(database, times=True)
    log = requests.get(f"{url}/__sandbox/requests?platform={platform}", timeout=5).json()
    creates = [e for e in log if e["route"] == "create"]
    ideal = args.posts / args.limit * args.window
    windows = -(-args.posts // args.limit)
    # X states its reset in whole epoch seconds: a client that obeys it starts the next window
    # at a whole second at the earliest, and the window then opened runs floor(W) + 1 seconds
    # until the next whole-second reset. Mastodon's reset has microseconds: no rounding.
    rounded = (windows - 1) * (int(args.window) + 1) + args.window if platform == "x" else ideal
    # The schedule's length: first send to last send, plus the last window it opens (so the
    # ideal schedule, 30 sends at t = 0, 3, ..., 27 s, takes exactly 300/30 x 3 s = 30 s).
    span = (times[-1] if times else 0.0) + args.window
    return {
        "posts": planned,
        "states": states,
        "seconds": span,
        "with_worker_start_s": took,
        "ideal_s": ideal,
        "ratio": span / ideal,
        "ideal_rounded_s": rounded,
        "ratio_rounded": span / rounded,
        "responses_429": sum(e["status"] == 429 for e in creates),
        "windows": windows,
        "times": times,
    }


def plot(runs: dict[str, dict[str, Any]], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for mode, run in runs.items():
        times = run["times"]
        label = f"{mode}: {run['seconds']:.1f} s, {run['responses_429']} x 429"
        ax.step(times, range(1, len(times) + 1), where="post", label=label)
    windows = -(-args.posts // args.limit)  # window k opens at k x window with `limit` more
    ideal_t = [k * args.window for k in range(windows + 1)]
    ideal_n = [min((k + 1) * args.limit, args.posts) for k in range(windows)] + [args.posts]
    ax.step(ideal_t, ideal_n, where="post", linestyle="--", color="grey", label="ideal schedule")
    title = f"one account, sandbox limit {args.limit} per {args.window:g} s"
    save_plot(fig, ax, path, title, "posts sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--limit", type=int, default=30, help="creates per window")
    parser.add_argument("--window", type=float, default=3.0, help="window in seconds")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--plot", type=Path, default=OUT / "ratelimit.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sandbox("--latency", str(args.latency)) as url:
        runs = {mode: one_run(url, Path(tmp), args, mode) for mode in MODES}
    result = {}
    for mode, run in runs.items():
        print(
            f"{mode}: {run['posts']} posts, limit {args.limit}/{args.window:g} s: "
            f"{run['seconds']:.1f} s vs ideal {run['ideal_s']:.1f} s = {run['ratio']:.2f}x ideal, "
            f"{run['ratio_rounded']:.2f}x the whole-second-reset ideal "
            f"({run['ideal_rounded_s']:.1f} s); "
            f"{run['responses_429']} responses 429 over {run['windows']} windows; {run['states']}"
        )
        result[mode] = {k: v for k, v in run.items() if k != "times"}
    if args.plot.name:
        plot(runs, args, args.plot)
        print(f"plot: {args.plot}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
