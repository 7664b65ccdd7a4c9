"""Write BENCHMARKS.md from one `make bench` run: goals met or missed, figures, machine, re-run."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _results(outputs: dict[str, list[str]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for lines in outputs.values():
        for line in lines:
            if line.startswith("RESULT "):
                merged.update(json.loads(line.removeprefix("RESULT ")))
    return merged


def _coldstart(outputs: dict[str, list[str]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in outputs.get("coldstart_bench.py", []):
        m = re.match(r"\s+(.+?)\s+(\d+) ms", line)
        if m:
            found[m.group(1)] = float(m.group(2))
        m = re.match(r"render: ([\d,]+) fitted", line)
        if m:
            found["render"] = float(m.group(1).replace(",", ""))
    return found


def _goal(ok: bool | None, text: str) -> tuple[str, str]:
    return ("met" if ok else "n/a" if ok is None else "**missed**", text)


def goals(r: dict[str, Any], cold: dict[str, float]) -> list[tuple[str, str, str, str]]:
    """(id, goal, verdict, measured) per benchmark."""
    rows: list[tuple[str, str, str, str]] = []
    fo = r.get("fanout", {})
    if fo:
        f, ratio = fo["fanout"], fo["ratio"]
        ok = ratio >= 10 and f["per_s"] >= 250
        rows.append(
            (
                "fanout",
                ">= 10x baseline, >= 250/s",
                *_goal(
                    ok,
                    (
                        f"{ratio:.1f}x the sequential loop ({f['per_s']:.0f}/s vs "
                        f"{fo['baseline_per_s']:.1f}/s)"
                        f"; {f['deliveries']} deliveries, {f['states']}"
                    ),
                ),
            )
        )
        if "postgres" in fo:
            p = fo["postgres"]
            rows.append(
                (
                    "postgres",
                    ">= 2x SQLite 1 worker",
                    *_goal(
                        fo["postgres_ratio"] >= 2,
                        (
                            f"{fo['postgres_ratio']:.2f}x ({p['per_s']:.0f}/s with 4 workers vs "
                            f"{f['per_s']:.0f}/s); {p['states']}"
                        ),
                    ),
                )
            )
        else:
            rows.append(("postgres", ">= 2x", "skipped", fo.get("postgres_skipped", "")))
        rows.append(
            (
                "memory",
                "worker peak RSS <= 150 MB",
                *_goal(f["peak_rss_mb"] <= 150, f"{f['peak_rss_mb']:.0f} MB over the fanout run"),
            )
        )
    modes = (("ratelimit", 1.10, 0), ("headers", 1.25, 1), ("headers (mastodon)", 1.25, 1))
    for mode, limit, per_window in modes:
        m = r.get(mode)
        if m:
            ok = m["ratio"] <= limit and m["responses_429"] <= per_window * m["windows"]
            rows.append(
                (
                    mode,
                    f"<= {limit:.2f}x ideal, <= {per_window} 429 per window",
                    *_goal(
                        ok,
                        f"{m['ratio']:.2f}x ideal ({m['seconds']:.1f} s vs {m['ideal_s']:.0f} s), "
                        f"{m['responses_429']} x 429 over {m['windows']} windows",
                    ),
                )
            )
    if "preview --json" in cold:
        base = cold.get("python -c pass", 0.0)
        ok = cold["preview --json"] <= 300 and cold.get("distributor --help", 1e9) <= 150
        rows.append(
            (
                "coldstart",
                "preview <= 300 ms, --help <= 150 ms",
                *_goal(
                    ok,
                    (
                        f"preview {cold['preview --json']:.0f} ms, --help "
                        f"{cold.get('distributor --help', 0):.0f} ms; python -c pass {base:.0f} ms"
                    ),
                ),
            )
        )
    if "render" in cold:
        rows.append(
            (
                "render",
                ">= 5,000/s per core",
                *_goal(cold["render"] >= 5000, f"{cold['render']:,.0f} fitted posts/s"),
            )
        )
    lq = r.get("logquery")
    if lq:
        page = lq.get("page_p95_ms")
        ok = lq["cli_ms"] <= 300 and (page is None or page <= 150)
        page_text = f", page p95 {page:.0f} ms" if page is not None else ", page skipped"
        rows.append(
            (
                "logquery",
                "CLI <= 300 ms, page p95 <= 150 ms",
                *_goal(ok, f"{lq['rows']:,} rows: CLI {lq['cli_ms']:.0f} ms{page_text}"),
            )
        )
    wh = r.get("webhook")
    if wh:
        ok = wh["accepted_per_s"] >= 500 and wh["p99_ms"] <= 100
        rows.append(
            (
                "webhook",
                ">= 500/s, p99 <= 100 ms",
                *_goal(
                    ok,
                    (
                        f"{wh['accepted_per_s']:.0f}/s, p50 {wh['p50_ms']:.0f} ms, "
                        f"p99 {wh['p99_ms']:.0f} ms"
                    ),
                ),
            )
        )
    fm = r.get("feedmemory")
    if fm:
        base, runs = fm["baseline"]["peak_mb"], fm["runs"]
        small, big = runs[0], runs[-1]
        growth = (big["peak_mb"] - base) / max(small["peak_mb"] - base, 0.1)
        size = big["items"] / small["items"]
        text = ", ".join(
            f"{x['items']} items: {x['peak_mb']:.0f} MB in {x['s']:.1f} s" for x in runs
        )
        rows.append(
            (
                "memory (feed)",
                "bounded in the feed size",
                *_goal(
                    growth <= size * 1.2,
                    f"{text}; imports alone {base:.0f} MB; extra memory x"
                    f"{growth:.1f} for x{size:.0f} items",
                ),
            )
        )
    return rows


NOTES = """## Why goals are missed, and what the profile showed

- **fanout** is CPU-bound, not latency-bound: one worker process sends on up to 50 threads, but
  each delivery costs about 10 ms of Python CPU (four short committed transactions through
  SQLAlchemy: claim, rate slot, `sending`, outcome plus its attempt row; and the HTTP client:
  tweepy/facebook-sdk/requests/urllib3), and the GIL runs that on one core, while the sandbox
  (another Python process) needs the second core. `bench/profile_fanout.py` shows the split.
  The baseline pays the 20 ms latency for every post, so the ratio is the concurrency the CPU
  allows. Reaching 250/s needs fewer transactions per delivery (e.g. rate slot and `sending` in
  one) or more worker processes on more cores.
- **postgres**: 4 worker processes on 2 cores shared with the PostgreSQL server and the sandbox
  have no more CPU than 1 worker; claims are serialised (advisory lock, so each account has one
  send in flight) and every transaction is a network round trip. PostgreSQL's gain is workers on
  several machines, which this benchmark cannot show on one 2-core box.
- **ratelimit** and **headers (X)**: X gives `x-rate-limit-reset` in whole epoch seconds (the
  sandbox rounds up, as X does). Dispatch obeys `rate_remaining = 0` from the headers even when
  the channel declares a `rate` (the platform's word wins), so after the 30th post of a window
  it waits for the rounded-up reset: up to 1 s too long per window, up to 1.33x on 3 s windows.
  With Mastodon's reset (ISO-8601 with microseconds) the same schedule hugs the limit. Zero 429
  answers in every mode.
- **coldstart**: `preview` imports twitter_text for X's URL weighting; that import is about
  180 ms of the figure (its `regexp/emoji.py` imports `pkg_resources`, ~55 ms, and compiles a
  very large emoji pattern, ~65 ms; `python -X importtime`). `--help` imports none of it.
- **logquery** (CLI) and **render** on a busy machine: a fresh Python process plus imports is
  most of the CLI figure (compare `python -c pass` in the same run).
- **webhook**: one `distributor serve` process on SQLite; each 202 is a committed plan of the
  article on every channel, and load generator, server and other work share the 2 cores.
- Unknown outcomes in the fan-out runs (if any are listed) are read timeouts on an overloaded
  machine: the post may exist, so dispatch leaves them to reconcile instead of sending twice.

Profile fixes made before these figures (pyinstrument): render started a `threading.Timer`
(a new thread) per render for its time limit: 58% of render time, now one watchdog thread;
the Telegram HTML length parser copied text character by character (next hot spot), now by
runs; dispatch started a lease-keeper thread per send (14% of a delivery), now one keeper per
process; claim re-read each leased row (now `UPDATE ... RETURNING`).
"""


def write_report(outputs: dict[str, list[str]], machine: str) -> Path:
    r, cold = _results(outputs), _coldstart(outputs)
    load = os.getloadavg()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}; load "
        f"average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
        + (
            " (the machine was busy with other work: absolute figures are noisy, the ratios "
            "within this run are what count)."
            if load[1] > 1.0
            else "."
        ),
        "Everything runs against the built-in sandbox on 127.0.0.1. Re-run: `make bench` "
        "(this file and `bench/out/*.png`), `make bench QUICK=1` (a smoke run, no figures).",
        "",
        "| id | goal | verdict | measured |",
        "|---|---|---|---|",
        *[f"| {i} | {g} | {v} | {m} |" for i, g, v, m in goals(r, cold)],
        "",
        "![fanout](bench/out/fanout.png) ![ratelimit](bench/out/ratelimit.png)",
        "",
        NOTES,
        "",
        "## Output of this run",
        "",
    ]
    for script, out in outputs.items():
        text = "\n".join(ln for ln in out if not ln.startswith("RESULT "))
        lines += [f"### {script}", "", "```", text, "```", ""]
    path = REPO / "BENCHMARKS.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
