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
    "coldstart_bench.py": (
        ["--runs", "9", "--seconds", "3"],
        ["--runs", "1", "--seconds", "0.2", "--articles", "20"],
    ),
    "limits_bench.py": (["--seconds", "0.5"], ["--seconds", "0.02"]),
    "fanout_bench.py": (
        [],
        ["--articles", "4", "--accounts", "1", "--yardstick-seconds", "0.5", "--plot", ""],
    ),
    "backlog_bench.py": (
        [],
        ["--sizes", "50", "100", "--sends", "20", "--repeats", "1", "--plot", ""],
    ),
    "scaleout_bench.py": ([], ["--workers", "1", "2", "--seconds", "2", "--warmup", "0.5"]),
    "timetopost_bench.py": ([], ["--articles", "2", "--gap", "0"]),
    "ratelimit_bench.py": (
        [],
        ["--posts", "6", "--limit", "3", "--window", "0.5", "--plot", ""],
    ),
    "logquery_bench.py": ([], ["--rows", "2000", "--runs", "1", "--pages", "2"]),
    "desk_bench.py": ([], ["--articles", "300", "--runs", "1"]),
    "webhook_bench.py": ([], ["--seconds", "0.5", "--clients", "2"]),
    "memory_bench.py": ([], ["--items", "10", "100"]),
    "profile_fanout.py": (
        ["--articles", "10"],
        ["--articles", "1", "--accounts", "1", "--split-articles", "2", "--threads", "4"],
    ),
    "schedule_bench.py": (
        [],
        [
            "--articles",
            "3",
            "--channels",
            "1",
            "--gap",
            "60",
            "--real-gap",
            "0.05",
            "--workers",
            "1",
        ],
    ),
}
# benchmark ids of the issue, by the script that reports them
IDS = {
    "coldstart_bench.py": ["coldstart", "render"],
    "fanout_bench.py": ["fanout", "worker CPU", "memory"],
    "backlog_bench.py": ["backlog"],
    "scaleout_bench.py": ["scaleout"],
    "timetopost_bench.py": ["time to post"],
    "ratelimit_bench.py": ["ratelimit", "headers"],
    "logquery_bench.py": ["logquery"],
    "desk_bench.py": ["desk"],
    "webhook_bench.py": ["webhook"],
    "memory_bench.py": ["memory"],
    "profile_fanout.py": ["profile"],
    "schedule_bench.py": ["schedule"],
}


def main(argv: list[str] | None = None) -> int:
    from distributor.progress import progress

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run, no figures")
    args = parser.parse_args(argv)
    machine = f"{platform.machine()}, Python {platform.python_version()}, {_cpus()} cores"
    print(f"machine: {machine}", flush=True)
    failed, outputs = 0, {}
    with progress("benchmarks", total=len(BENCHMARKS)) as bar:  # on a terminal only
        for n, (script, (full, quick)) in enumerate(BENCHMARKS.items()):
            bar.update(completed=n, description=f"bench {script}")
            print(f"\n== {script} ({', '.join(IDS.get(script, [script]))})", flush=True)
            done = subprocess.run(
                [sys.executable, str(HERE / script), *(quick if args.quick else full)],
                cwd=HERE,
                stdout=subprocess.PIPE,
                text=True,
            )
            lines = [ln for ln in done.stdout.splitlines() if not ln.startswith("worker ")]
            print("\n".join(ln for ln in lines if not ln.startswith("RESULT ")), flush=True)
            outputs[script] = lines
            failed += done.returncode != 0
    if not args.quick:
        import json

        from bench.report import write_report

        path = write_report(outputs, machine)
        raw = HERE / "out" / "last-run.json"  # every script's output, RESULT lines included
        raw.parent.mkdir(exist_ok=True)
        raw.write_text(json.dumps({"machine": machine, "outputs": outputs}, indent=1))
        print(f"\nwrote {path} and {raw}")
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
