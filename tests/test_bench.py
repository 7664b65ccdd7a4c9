"""The benchmarks still run (quick mode); their figures are measurements, never asserted."""

from __future__ import annotations

import subprocess
import sys

import pytest
from locations import REPO


@pytest.mark.timeout(900)  # the subprocess's own limit below, not pytest's default 120 s
def test_quick_bench_runs_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,  # a busy machine; about 40 s on a quiet one
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "━" not in done.stderr and "bench " not in done.stderr  # piped: no progress bar
    from bench.__main__ import BENCHMARKS, IDS

    for script in BENCHMARKS:
        assert f"== {script}" in done.stdout
    # every benchmark id of the issue reports a figure line (values are never asserted)
    for prefix in (
        "cold start",
        "  preview, no template cache",
        "render:",
        "fanout:",
        "memory:",
        "ratelimit:",
        "headers:",
    ):
        assert any(line.startswith(prefix) for line in done.stdout.splitlines()), prefix
    for prefix in (
        "    per delivery: ",  # the worker's and the store-less sender's context switches
        "CPU split:",
        "logquery:",
        "webhook:",
        "  admin log page",
        "backlog:",
        "time to post:",
        "schedule (",
    ):
        assert any(line.startswith(prefix) for line in done.stdout.splitlines()), prefix
    assert {i for ids in IDS.values() for i in ids} >= {
        "fanout",
        "ratelimit",
        "headers",
        "coldstart",
        "render",
        "backlog",
        "scaleout",
        "time to post",
        "worker CPU",
        "logquery",
        "webhook",
        "memory",
        "schedule",
    }
    assert any(ln.startswith(("scaleout:", "scaleout: skipped")) for ln in done.stdout.splitlines())


def test_report_states_only_what_the_run_measured() -> None:
    """The goals table comes from the run's RESULT figures: other figures, other words."""
    from bench.goals import goals

    slow = {"timetopost": {"n": 5, "p50_ms": 900.0, "p99_ms": 1500.0}}
    fast = {"timetopost": {"n": 5, "p50_ms": 30.0, "p99_ms": 80.0}}
    ((_, _, missed, text_slow),) = goals(slow)
    ((_, _, met, text_fast),) = goals(fast)
    assert missed.startswith("**missed**") and met == "met"
    assert "1500 ms" in text_slow and "80 ms" in text_fast


def test_webhook_row_shows_the_capacity_measured_again_after_the_open_loops() -> None:
    from bench.goals import webhook

    run = {
        "accepted_per_s": 500.0,
        "clients": 8,
        "server_cpu_ms_per_accepted": 2.0,
        "open": [{"share": 0.8, "offered_per_s": 400.0, "p50_ms": 10.0, "p99_ms": 40.0}],
    }
    ((_, _, met, text),) = webhook({"webhook": run})
    assert met == "met" and "again" not in text
    ((_, _, _, text),) = webhook({"webhook": {**run, "capacity_after_per_s": 410.0}})
    assert "capacity 500/s" in text and "closed loop again after the open loops: 410/s" in text


def test_coldstart_row_shows_preview_without_the_template_cache_beside_the_goal() -> None:
    from bench.goals import coldstart

    ms = {"python -c pass": 10.0, "distributor --help": 40.0, "preview --json": 140.0}
    run = {"ms": ms, "ratio": {k: v / 10.0 for k, v in ms.items()}}
    ((_, _, met, text),) = coldstart({"coldstart": run})
    assert met == "met" and "no template cache" not in text  # a run from before the cache
    ms = {**ms, "preview, no template cache": 160.0}
    run = {"ms": ms, "ratio": {k: v / 10.0 for k, v in ms.items()}}
    ((_, _, met, text),) = coldstart({"coldstart": run})
    assert met == "met" and text.endswith("preview with no template cache 16.0x (160 ms)")


def test_cpu_split_counts_a_timed_call_inside_another_once() -> None:
    import time

    from bench.cpusplit import Split

    def burn(seconds: float = 0.01) -> None:
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    split = Split()
    inner = split.timed("store", burn)
    split.timed("publish", lambda: (inner(), burn()))()
    inner()
    assert split.seconds["publish"] >= 0.02  # both burns inside it, the inner one included
    assert 0.01 <= split.seconds["store"] < 0.02  # only the call made outside "publish"


def test_bench_counts_must_be_whole_numbers_of_at_least_one() -> None:
    import argparse

    from bench.common import positive

    assert positive("3") == 3
    for bad in ("0", "-2", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive(bad)


def test_worker_cpu_row_compares_context_switches_with_the_store_less_sender() -> None:
    import resource

    from bench.common import add_usage, new_usage, per_delivery
    from bench.goals import fanout

    usage = new_usage()
    add_usage(usage, resource.getrusage(resource.RUSAGE_SELF), -1)
    add_usage(usage, resource.getrusage(resource.RUSAGE_SELF))
    assert usage["voluntary"] >= 0 and usage["system_s"] >= 0  # a difference, not a total
    worker = {"system_s": 0.6, "voluntary": 400.0, "involuntary": 100.0}
    assert per_delivery(worker, 10) == {"system_ms": 60.0, "voluntary": 40.0, "involuntary": 10.0}
    run = {
        "deliveries": 10,
        "states": {"sent": 10},
        "steady_per_s": 300.0,
        "cpu_ms_per_delivery": 3.0,
        "peak_rss_mb": 90.0,
        "per_delivery": per_delivery(worker, 10),
    }
    yard = {"steady_per_s": 400.0, "cpu_ms_per_delivery": 2.0}
    rows = fanout({"fanout": {"fanout": run, "storeless": yard, "ratio": 0.75}})
    assert "context switches" not in rows[1][3]  # the store-less side was not measured
    yard["per_delivery"] = {"system_ms": 30.0, "voluntary": 27.0, "involuntary": 5.0}
    rows = fanout({"fanout": {"fanout": run, "storeless": yard, "ratio": 0.75}})
    assert rows[1][0] == "worker CPU"
    assert "40 against 27 voluntary context switches" in rows[1][3]
    assert "60.00 against 30.00 ms of kernel CPU" in rows[1][3]


def test_every_plot_benchmarks_md_shows_is_in_the_repository() -> None:
    """A plot `make bench` writes but nobody commits (git ignores `bench/out/*` but for the
    plots named there) would be a broken image on a fresh clone."""
    import re

    report = (REPO / "BENCHMARKS.md").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert shown, "BENCHMARKS.md shows no plot"
    tracked = subprocess.run(
        ["git", "ls-files", "--", *shown], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(tracked) == sorted(set(shown)), f"not committed: {set(shown) - set(tracked)}"
    assert all((REPO / path).is_file() for path in shown)
