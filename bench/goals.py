"""The goals of `make bench` and their verdicts, each computed from one run's RESULT figures.

A row is (id, goal, verdict, measured). Every number in `measured` comes from the run; nothing
here is a remembered figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Row = tuple[str, str, str, str]


def verdict(checks: Sequence[tuple[str, float, float, bool]]) -> str:
    """ "met", or "missed" with how far each missed figure is from its goal.
    A check: (name, measured, goal, True when higher is better)."""
    missed = []
    for name, value, goal, higher in checks:
        if (value < goal) if higher else (value > goal):
            if higher:
                missed.append(f"{name} {value / goal:.0%} of the goal")
            else:
                missed.append(f"{name} {value / goal - 1:.0%} over")
    return "**missed**: " + "; ".join(missed) if missed else "met"


def _states(states: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in states.items() if not isinstance(v, dict))


def _switches(worker: dict[str, Any], storeless: dict[str, Any]) -> str:
    """Context switches and kernel CPU per delivery, worker against store-less (when measured)."""
    w, s = worker.get("per_delivery"), storeless.get("per_delivery")
    if not (w and s):
        return ""
    return (
        f"; per delivery, worker against store-less: {w['voluntary']:.0f} against "
        f"{s['voluntary']:.0f} voluntary context switches, {w['system_ms']:.2f} against "
        f"{s['system_ms']:.2f} ms of kernel CPU"
    )


def fanout(r: dict[str, Any]) -> list[Row]:
    fo = r.get("fanout")
    if not fo:
        return []
    f, s = fo["fanout"], fo["storeless"]
    return [
        (
            "fanout",
            ">= 0.5x the store-less sender (same threads)",
            verdict([("ratio", fo["ratio"], 0.5, True)]),
            f"{fo['ratio']:.2f}x: worker {f['steady_per_s']:.0f}/s vs store-less "
            f"{s['steady_per_s']:.0f}/s (first to last send); {f['deliveries']} deliveries: "
            f"{_states(f['states'])}",
        ),
        (
            "worker CPU",
            "<= 2.5 ms CPU per delivery",
            verdict([("CPU", f["cpu_ms_per_delivery"], 2.5, False)]),
            f"{f['cpu_ms_per_delivery']:.1f} ms per delivery with the worker's start-up, "
            f"{f.get('steady_cpu_ms_per_delivery', 0.0):.1f} ms from its first settled delivery "
            f"on (store-less sender: {s['cpu_ms_per_delivery']:.1f} ms){_switches(f, s)}",
        ),
        (
            "memory",
            "worker peak RSS <= 150 MB",
            verdict([("RSS", f["peak_rss_mb"], 150, False)]),
            f"{f['peak_rss_mb']:.0f} MB over the fanout run",
        ),
    ]


def backlog(r: dict[str, Any]) -> list[Row]:
    b = r.get("backlog")
    if not b:
        return []
    runs = b["runs"]
    text = ", ".join(f"{x['queued']:,} queued: {x['per_s']:.0f}/s" for x in runs)
    return [
        (
            "backlog",
            "rate at 100k queued >= 0.9x the rate at 1k",
            verdict([("ratio", b["ratio"], 0.9, True)]),
            f"{b['ratio']:.2f}x ({text})",
        )
    ]


def scaleout(r: dict[str, Any]) -> list[Row]:
    s = r.get("scaleout")
    if not s:
        return []
    if "skipped" in s:
        return [("scaleout", ">= 0.8 N x one process", "skipped", s["skipped"])]
    checks = [(f"N={x['workers']}", x["ratio"], 0.8 * x["workers"], True) for x in s["runs"][1:]]
    text = ", ".join(f"N={x['workers']}: {x['per_s']:.1f}/s ({x['ratio']:.2f}x)" for x in s["runs"])
    return [
        (
            "scaleout",
            f"PostgreSQL, {s['latency'] * 1000:.0f} ms latency: N processes >= 0.8 N x one",
            verdict(checks),
            text,
        )
    ]


def ratelimits(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for mode, limit in (("ratelimit", 1.10), ("headers", 1.25), ("headers (mastodon)", 1.25)):
        m = r.get(mode)
        if not m:
            continue
        rounded = m.get("ratio_rounded", m["ratio"])
        ideal_rounded = m.get("ideal_rounded_s", m["ideal_s"])
        rows.append(
            (
                mode,
                f"<= {limit:.2f}x the whole-second-reset ideal, no 429 beyond 1 per window",
                verdict(
                    [
                        ("time", rounded, limit, False),
                        (
                            "429s",
                            m["responses_429"],
                            m["windows"] if mode != "ratelimit" else 0,
                            False,
                        ),
                    ]
                ),
                f"{m['seconds']:.1f} s: {m['ratio']:.2f}x the naive ideal ({m['ideal_s']:.0f} s), "
                f"{rounded:.2f}x the rounding-aware one ({ideal_rounded:.0f} s); "
                f"{m['responses_429']} x 429 over {m['windows']} windows",
            )
        )
    return rows


def _uncached(ratio: dict[str, float], ms: dict[str, float]) -> str:
    key = "preview, no template cache"  # runs before that figure existed lack it
    return (
        f"; preview with no template cache {ratio[key]:.1f}x ({ms[key]:.0f} ms)"
        if key in ms
        else ""
    )


def coldstart(r: dict[str, Any]) -> list[Row]:
    c = r.get("coldstart")
    rows: list[Row] = []
    if c:
        ratio, ms = c["ratio"], c["ms"]
        rows.append(
            (
                "coldstart",
                "preview --json <= 15x, --help <= 8x `python -c pass`",
                verdict(
                    [
                        ("preview", ratio["preview --json"], 15, False),
                        ("--help", ratio["distributor --help"], 8, False),
                    ]
                ),
                f"preview {ratio['preview --json']:.1f}x ({ms['preview --json']:.0f} ms), --help "
                f"{ratio['distributor --help']:.1f}x ({ms['distributor --help']:.0f} ms); "
                f"python -c pass {ms['python -c pass']:.0f} ms" + _uncached(ratio, ms),
            )
        )
    if "render" in r:
        rows.append(
            (
                "render",
                ">= 5,000 distinct fitted posts/s per core",
                verdict([("rate", r["render"], 5000, True)]),
                f"{r['render']:,.0f} fitted posts per CPU second (distinct articles)",
            )
        )
    return rows


def webhook(r: dict[str, Any]) -> list[Row]:
    wh = r.get("webhook")
    if not wh:
        return []
    at80 = next((x for x in wh.get("open", []) if abs(x["share"] - 0.8) < 1e-6), None)
    checks = [("CPU", wh["server_cpu_ms_per_accepted"], 2.5, False)]
    text = (
        f"capacity {wh['accepted_per_s']:.0f}/s (closed loop, {wh['clients']} clients), server CPU "
        f"{wh['server_cpu_ms_per_accepted']:.1f} ms per accepted request"
    )
    if "capacity_after_per_s" in wh:  # the open loops' rates came from the first figure
        text += f"; closed loop again after the open loops: {wh['capacity_after_per_s']:.0f}/s"
    for x in wh.get("open", []):
        text += (
            f"; open loop {x['share']:.0%} ({x['offered_per_s']:.0f}/s): p50 {x['p50_ms']:.0f} ms,"
            f" p99 {x['p99_ms']:.0f} ms"
        )
    if at80:
        checks.append(("p99 at 80%", at80["p99_ms"], 50, False))
    goal = "server CPU <= 2.5 ms per accepted request; p99 <= 50 ms at 80% of capacity"
    return [("webhook", goal, verdict(checks), text)]


def timetopost(r: dict[str, Any]) -> list[Row]:
    t = r.get("timetopost")
    if not t:
        return []
    return [
        (
            "time to post",
            "202 -> platform answer p99 <= 1 s at low load",
            verdict([("p99", t["p99_ms"], 1000, False)]),
            f"p50 {t['p50_ms']:.0f} ms, p99 {t['p99_ms']:.0f} ms over {t['n']} articles",
        )
    ]


def logquery(r: dict[str, Any]) -> list[Row]:
    lq = r.get("logquery")
    if not lq:
        return []
    page, table = lq.get("page_p95_ms"), lq.get("deliveries_p95_ms")
    checks = [("CLI", lq["cli_ms"], 300, False)]
    checks += [("Posts page p95", page, 150, False)] if page is not None else []
    checks += [("Deliveries page p95", table, 150, False)] if table is not None else []
    page_text = f", Posts page p95 {page:.0f} ms" if page is not None else ", page skipped"
    page_text += f", Deliveries page p95 {table:.0f} ms" if table is not None else ""
    return [
        (
            "logquery",
            "CLI <= 300 ms, admin pages p95 <= 150 ms",
            verdict(checks),
            f"{lq['rows']:,} rows: CLI {lq['cli_ms']:.0f} ms (median){page_text}",
        )
    ]


def feedmemory(r: dict[str, Any]) -> list[Row]:
    fm = r.get("feedmemory")
    if not fm:
        return []
    base, runs = fm["baseline"]["peak_mb"], fm["runs"]
    small, big = runs[0], runs[-1]
    growth = (big["peak_mb"] - base) / max(small["peak_mb"] - base, 0.1)
    size = big["items"] / small["items"]
    text = ", ".join(f"{x['items']} items: {x['peak_mb']:.0f} MB in {x['s']:.1f} s" for x in runs)
    return [
        (
            "memory (feed)",
            "bounded in the feed size (linear at most)",
            verdict([("growth", growth, size * 1.2, False)]),
            f"{text}; imports alone {base:.0f} MB; extra memory x{growth:.1f} "
            f"for x{size:.0f} items",
        )
    ]


def schedule(r: dict[str, Any]) -> list[Row]:
    """The burst with min_gap, once in virtual time and once in real time."""
    return [
        (
            f"schedule ({mode} time)",
            "<= 1.05x ideal, 0 gaps shorter than min_gap",
            verdict(
                [("time", m["ratio"], 1.05, False), ("short gaps", m["gaps_shorter"], 0, False)]
            ),
            f"{m['posts']} posts on {m['channels']} channels, min_gap {m['min_gap_s']:g} s: "
            f"{m['ratio']:.3f}x ideal ({m['span_s']:.1f} s vs {m['ideal_s']:.1f} s); gaps "
            f"{m['shortest_gap_s']:.3f} s (shortest) to {m['longest_gap_s']:.3f} s, median "
            f"{m['median_gap_s']:.3f} s; {m['gaps_shorter']} shorter than min_gap",
        )
        for mode, m in r.get("schedule", {}).items()
    ]


SECTIONS: list[Callable[[dict[str, Any]], list[Row]]] = [
    fanout,
    backlog,
    scaleout,
    timetopost,
    webhook,
    coldstart,
    ratelimits,
    logquery,
    feedmemory,
    schedule,
]


def goals(r: dict[str, Any]) -> list[Row]:
    return [row for section in SECTIONS for row in section(r)]
