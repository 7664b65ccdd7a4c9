"""Measure the hostile-feed bound for RELIABILITY.md (issue 13 finding 4): parse time and peak
memory of feeds at the size cap, with the attribute pre-check off (before) and on (now).

    .venv/bin/python tests/hardening/feed_probe.py [--limit SECONDS]

Each case runs in a child process (peak RSS is the child's own); a case still parsing after
`--limit` seconds is stopped and reported as such. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

HEAD = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://n.example/</link>'
ITEM = "<item{a}><title>Meldung {n}</title><link>https://n.example/a{n}</link>{d}</item>"
CASES = {
    "1 MB, 100,000 attributes on one element": "hostile",
    "5 MiB, 64 attributes on every item (the most allowed)": "max-attrs",
    "5 MiB, 17,000 plain items": "plain",
}


def feed(kind: str) -> bytes:
    if kind == "hostile":
        attrs = "".join(f' a{i}="x"' for i in range(100_000))
        return (HEAD + ITEM.format(a=attrs, n=1, d="") + "</channel></rss>").encode()
    attrs = "".join(f' a{i}="x"' for i in range(64)) if kind == "max-attrs" else ""
    text = "<description>" + "Text " * 40 + "</description>" if kind == "plain" else ""
    one = len(ITEM.format(a=attrs, n=10000, d=text))
    items = (ITEM.format(a=attrs, n=n, d=text) for n in range(5 * 2**20 // one))
    return (HEAD + "".join(items) + "</channel></rss>").encode()


def child(kind: str, check: bool) -> None:
    import resource

    from distributor.errors import ArticleError
    from distributor.sources import feeds

    if not check:
        feeds.MAX_ATTRIBUTES = 10**9
    data = feed(kind)
    started = time.perf_counter()
    try:
        result = f"{len(feeds.parse_feed(data, 'f'))} items"
    except ArticleError as exc:
        result = "refused" if "attributes" in str(exc) else str(exc)[:60]
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result}; {seconds:.2f} s, peak RSS {rss:.0f} MiB ({len(data) / 2**20:.1f} MiB)")


def run(kind: str, check: bool, limit: float) -> str:
    argv = [sys.executable, __file__, "--child", kind] + ([] if check else ["--no-check"])
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return f"still parsing after {limit:g} s (stopped)"
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument("--child")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, not args.no_check)
        return
    print("| feed | before (no pre-check) | now |\n|---|---|---|")
    for name, kind in CASES.items():
        print(f"| {name} | {run(kind, False, args.limit)} | {run(kind, True, args.limit)} |")


if __name__ == "__main__":
    main()
