"""Memory of feed parsing: peak RSS of a process parsing an RSS feed of N items (not a test).

Run: .venv/bin/python bench/memory_bench.py [--items 1000 10000]
Each size is parsed in a fresh process (`--child N`), so the figures do not share a heap; the
baseline is the same process importing the parser and parsing a 1-item feed. "Bounded in the feed
size" means the extra memory grows no faster than the feed itself (MB per MB of feed is shown).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

ITEM = """<item><title>Stadtrat beschließt Haushalt {i}: was sich für Familien ändert</title>
<link>https://news.example/lokales/haushalt-{i}.html</link><guid>news-{i}</guid>
<description>&lt;p&gt;Die wichtigsten Punkte der Sitzung {i} im Überblick. Mehr Geld für Kitas,
weniger für Straßen. Lesen Sie, was das für Ihre Familie bedeutet.&lt;/p&gt;</description>
<category>Lokales</category><pubDate>Tue, 10 Jun 2025 08:00:00 +0200</pubDate>
<media:content url="https://news.example/img/{i}.jpg" medium="image" width="1200"/></item>
"""


def feed(items: int) -> bytes:
    head = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>News</title>'
        "<link>https://news.example/</link><language>de</language>"
    )
    body = "".join(ITEM.format(i=i) for i in range(items))
    return (head + body + "</channel></rss>").encode()


def child(items: int) -> None:
    import resource

    from distributor.sources import parse_feed

    data = feed(items)
    start = time.perf_counter()
    articles = parse_feed(data, "bench.xml")
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"items": len(articles), "bytes": len(data), "s": took, "peak_mb": peak}))


def measure(items: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(items)],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DISTRIBUTOR_")},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    base = measure(1)
    runs = [measure(n) for n in args.items]
    print(f"feed parsing: 1-item feed {base['peak_mb']:.0f} MB peak RSS (imports, baseline)")
    for run in runs:
        extra = run["peak_mb"] - base["peak_mb"]
        feed_mb = run["bytes"] / 1e6
        print(
            f"  {run['items']:>6} items ({feed_mb:.1f} MB feed): {run['s']:.2f} s, peak RSS "
            f"{run['peak_mb']:.0f} MB (+{extra:.0f} MB = {extra / feed_mb:.0f} MB per MB of feed)"
        )
    print("RESULT " + json.dumps({"feedmemory": {"baseline": base, "runs": runs}}))


if __name__ == "__main__":
    main()
