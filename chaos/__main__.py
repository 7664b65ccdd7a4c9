"""`python -m chaos [--minutes M] [--pg | --sqlite-only | --pg-only] [--workers N] [--seed S]`:
run the soak on SQLite (and PostgreSQL), print the figures, exit 1 if an invariant was violated."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from chaos.soak import Figures, Soak


def run_one(
    backend: str, url: str, folder: Path, seconds: float, args: argparse.Namespace
) -> Figures:
    soak = Soak(url, folder, backend=backend, workers=args.workers, seed=args.seed)
    print(f"== chaos soak on {backend}: {seconds:.0f} s, {args.workers} workers", flush=True)
    figures = soak.run(seconds)
    for line in figures.lines():
        print("  " + line, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of load per backend")
    parser.add_argument("--seconds", type=float, help="seconds of load (overrides --minutes)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    backends = parser.add_mutually_exclusive_group()
    backends.add_argument(
        "--pg",
        action="store_true",
        help="PostgreSQL too, even without DISTRIBUTOR_TEST_PG_URL (starts a private cluster)",
    )
    backends.add_argument("--sqlite-only", action="store_true")
    backends.add_argument("--pg-only", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    # SIGTERM (a `timeout`, Ctrl-C in make) unwinds normally: workers stopped, clusters removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    results = []
    with tempfile.TemporaryDirectory(prefix="distributor-chaos-") as tmp:
        folder = Path(tmp)
        (folder / "sqlite").mkdir()
        url = f"sqlite:///{folder / 'sqlite' / 'chaos.db'}"
        if not args.pg_only:
            results.append(run_one("sqlite", url, folder / "sqlite", seconds, args))
        pg_wanted = args.pg or args.pg_only or os.environ.get("DISTRIBUTOR_TEST_PG_URL")
        if not args.sqlite_only and pg_wanted:
            from chaos import pg

            (folder / "pg").mkdir()
            with pg.server() as server, pg.database(server) as pg_url:
                results.append(run_one("postgresql", pg_url, folder / "pg", seconds, args))
    if args.json:
        data = [asdict(f) | {"ok": f.ok} for f in results]
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0 if all(f.ok for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
