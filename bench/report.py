"""Write BENCHMARKS.md from one `make bench` run: goals met or missed, figures, machine, re-run.

Everything above "Notes written by people" is derived from the run's own output; the notes
are a dated, hand-written file (bench/NOTES.md) kept apart so a reader can tell the two apart.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bench.goals import goals

REPO = Path(__file__).resolve().parent.parent
NOTES = Path(__file__).resolve().parent / "NOTES.md"
PROFILE = "profile_fanout.py"


def results(outputs: dict[str, list[str]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for lines in outputs.values():
        for line in lines:
            if line.startswith("RESULT "):
                merged.update(json.loads(line.removeprefix("RESULT ")))
    return merged


def _header(machine: str) -> list[str]:
    load = os.getloadavg()
    busy = (
        " (the machine was busy with other work: absolute figures are noisy, the ratios "
        "within this run are what count)."
        if load[1] > 1.0
        else "."
    )
    return [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}; load "
        f"average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}{busy}",
        "Everything runs against the built-in sandbox on 127.0.0.1. Re-run: `make bench` "
        "(this file and `bench/out/*.png`), `make bench QUICK=1` (a smoke run, no figures).",
        "",
    ]


def _profile(outputs: dict[str, list[str]], rows: list[tuple[str, str, str, str]]) -> list[str]:
    """The measured profiles of this run, shown when a CPU goal is missed (they explain it)."""
    missed = [i for i, _, v, _ in rows if v.startswith("**missed") and i in CPU_GOALS]
    text = [ln for ln in outputs.get(PROFILE, []) if not ln.startswith("RESULT ")]
    if not missed or not text:
        return []
    return [
        f"## Where the CPU went in this run ({', '.join(missed)} missed)",
        "",
        "From `bench/profile_fanout.py`, run in this `make bench`: the CPU of a delivery split "
        "by part with the fan-out's send threads (each thread's CPU time around the part, "
        "`bench/cpusplit.py`), then pyinstrument's profile of one thread; both without latency:",
        "",
        "```",
        *text,
        "```",
        "",
    ]


CPU_GOALS = {"fanout", "worker CPU", "webhook", "backlog", "render"}


def write_report(outputs: dict[str, list[str]], machine: str) -> Path:
    rows = goals(results(outputs))
    lines = [
        *_header(machine),
        "| id | goal | verdict | measured in this run |",
        "|---|---|---|---|",
        *[f"| {i} | {g} | {v} | {m} |" for i, g, v, m in rows],
        "",
        "![fanout](bench/out/fanout.png) ![backlog](bench/out/backlog.png) "
        "![ratelimit](bench/out/ratelimit.png)",
        "",
        *_profile(outputs, rows),
        "## Output of this run",
        "",
    ]
    for script, out in outputs.items():
        if script == PROFILE:
            continue
        text = "\n".join(ln for ln in out if not ln.startswith("RESULT "))
        lines += [f"### {script}", "", "```", text, "```", ""]
    if NOTES.exists():
        lines += ["## Notes written by people (dated; not figures of this run)", ""]
        lines += [NOTES.read_text(encoding="utf-8").strip(), ""]
    path = REPO / "BENCHMARKS.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
