"""Cold start and rendering speed: what a newsroom feels on every CLI call (a script, not a test).

Run: .venv/bin/python bench/coldstart_bench.py [--runs 7] [--seconds 2]
Cold start: wall time of fresh processes, median of `--runs`, against `python -c pass` in the
same run. Render: fitted posts per second for the sample article on every example channel.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
CONFIG = REPO / "examples" / "distributor.toml"
BIN = Path(sys.executable).parent


def _median_ms(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=_env())
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _env() -> dict[str, str]:
    # No stray user config or sandbox override may change what is measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("DISTRIBUTOR_")}


def coldstart(runs: int) -> dict[str, float]:
    cli = str(BIN / "distributor")
    base = _median_ms([sys.executable, "-c", "pass"], runs)
    helps = _median_ms([cli, "--help"], runs)
    preview = _median_ms([cli, "preview", str(ARTICLE), "--config", str(CONFIG), "--json"], runs)
    return {"python -c pass": base, "distributor --help": helps, "preview --json": preview}


def render_rate(seconds: float) -> float:
    from distributor.article import Article
    from distributor.config import load_config
    from distributor.render import render
    from distributor.sources import load

    settings = load_config(CONFIG, environ={})
    article: Article = load(str(ARTICLE))[0]
    channels = list(settings.channels)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for channel in channels:
            render(article, channel, settings=settings)
        done += len(channels)
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per cold-start figure")
    parser.add_argument("--seconds", type=float, default=2.0, help="time for the render figure")
    args = parser.parse_args(argv)
    figures = coldstart(args.runs)
    base = figures["python -c pass"]
    print(f"cold start, median of {args.runs} runs:")
    for name, ms in figures.items():
        print(f"  {name:22} {ms:7.0f} ms   {ms / base:5.1f}x python -c pass")
    rate = render_rate(args.seconds)
    print(f"render: {rate:,.0f} fitted posts/s on one core (all example channels)")


if __name__ == "__main__":
    main()
