"""Where a delivery's CPU goes on the fan-out send path: split by part with the fan-out's send
threads (bench/cpusplit.py), then a pyinstrument profile of one thread.

Run: .venv/bin/python bench/profile_fanout.py [--articles 20] [--html bench/out/profile.html]
Both run against a sandbox without latency, so they show distributor's own cost per delivery.
The profile runs dispatch with concurrency 1 in the main thread (pyinstrument samples that
thread); the split runs it with `--threads` (as many as the fan-out benchmark's worker).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import FANOUT_PLATFORMS, positive, sandbox, secrets_for, write_config
from cpusplit import cpu_split
from fanout_bench import plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--html", type=Path, default=None)
    parser.add_argument("--chars", type=int, default=6000, help="of the text profile shown")
    parser.add_argument("--threads", type=positive, default=50, help="send threads of the split")
    parser.add_argument("--split-articles", type=positive, default=40, help="for the CPU split")
    args = parser.parse_args()
    from pyinstrument import Profiler

    from distributor.config import load_config
    from distributor.dispatch import Dispatcher
    from distributor.store import open_store

    limit = "x:create:1000000/1"
    with tempfile.TemporaryDirectory() as tmp, sandbox("--limit", limit) as url:
        database = f"sqlite:///{tmp}/profile.db"
        config = write_config(Path(tmp) / "p.toml", url, database, FANOUT_PLATFORMS, args.accounts)
        secrets = secrets_for(FANOUT_PLATFORMS, args.accounts)
        split_db = f"sqlite:///{tmp}/split.db"
        split_config = write_config(
            Path(tmp) / "s.toml", url, split_db, FANOUT_PLATFORMS, args.accounts
        )
        plan(split_config, secrets, args.split_articles, split_db, "split-")
        for line in cpu_split(split_config, secrets, split_db, args.threads):
            print(line, flush=True)
        print()
        _, planned = plan(config, secrets, args.articles, database, "profile-")
        settings = load_config(config, environ=secrets)
        store = open_store(database)
        dispatcher = Dispatcher(settings, store, concurrency=1)
        profiler = Profiler(interval=0.0005)
        start = time.perf_counter()
        with profiler:
            while dispatcher.run_once():
                pass
        took = time.perf_counter() - start
        store.close()
    print(
        f"profile: {planned} deliveries in one thread, no latency: {took:.1f} s, "
        f"{1000 * took / planned:.2f} ms per delivery"
    )
    print(profiler.output_text(unicode=False, color=False, show_all=False)[: args.chars])
    if args.html:
        args.html.parent.mkdir(exist_ok=True)
        args.html.write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    main()
