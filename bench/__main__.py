"""Run every benchmark in `bench/` in one process tree and print the figures.

`make bench` runs the full measurements; `make bench QUICK=1` (or `--quick`) runs each for a
moment only, so the suite can check that the benchmarks still work without timing anything.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# script -> (full arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "coldstart_bench.py": (["--runs", "9", "--seconds", "3"], ["--runs", "1", "--seconds", "0.2"]),
    "limits_bench.py": (["--seconds", "0.5"], ["--seconds", "0.02"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run, no figures")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {_cpus()} cores")
    failed = 0
    for script, (full, quick) in BENCHMARKS.items():
        print(f"\n== {script}", flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        )
        failed += done.returncode != 0
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
