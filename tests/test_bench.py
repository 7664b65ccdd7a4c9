"""The benchmarks still run (quick mode); their figures are measurements, never asserted."""

from __future__ import annotations

import subprocess
import sys

from locations import REPO


def test_quick_bench_runs_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "== coldstart_bench.py" in done.stdout and "== limits_bench.py" in done.stdout
    assert "fitted posts/s" in done.stdout and "Traceback" not in done.stderr
