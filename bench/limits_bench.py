"""Micro-benchmark for distributor.limits: counts per second per platform (a script, not a test).

Run: .venv/bin/python bench/limits_bench.py [--seconds 0.5]
Texts are realistic posts built from the sample article (German teaser, URL, hashtags, emoji);
"fit" mimics the renderer: each post is counted again with its last sentence dropped, several times.
"""

from __future__ import annotations

import argparse
import html
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from distributor import limits
from distributor.platform import BUILTIN

_ARTICLE = Path(__file__).resolve().parents[1] / "examples/articles/radbruecke-stadtrat.json"
_FALLBACK = "Radbrücke über den Neckar: Was sie kostet. Wer sie bezahlt. Wann sie kommt."


def _posts(n: int) -> list[str]:
    teaser = _FALLBACK
    if _ARTICLE.exists():
        data = json.loads(_ARTICLE.read_text(encoding="utf-8"))
        teaser = f"{data['title']}\n\n{data.get('teaser') or ''} {data.get('body', '')[:400]}"
    extras = ["", " 🇺🇦", " 👨‍👩‍👧‍👧", " 日本語", " Grüße"]
    return [
        f"{teaser}{extras[i % len(extras)]} #{i} https://www.news-example.de/a-{i}.html?utm_source=x"
        for i in range(n)
    ]


def _variants(post: str) -> list[str]:
    sentences = post.split(". ")
    return [". ".join(sentences[: len(sentences) - k]) for k in range(min(6, len(sentences)))]


def _rate(fn: Callable[[str], object], texts: list[str], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for text in texts:
            fn(text)
        done += len(texts)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    posts = _posts(200)
    fit_texts = [v for p in posts for v in _variants(p)]
    t0 = time.perf_counter()
    limits.length("x", "warm up https://example.com")  # the lazy twitter_text import
    print(f"x: lazy twitter_text import {1000 * (time.perf_counter() - t0):.0f} ms (once)")
    print(f"posts ~{sum(map(len, posts)) // len(posts)} chars; counts per second:")
    full = _rate(limits.x_length_full, posts[:50], args.seconds)
    print(f"  {'x (full parse, reference)':28} {full:>12,.0f}")
    html_texts = [f"<b>{html.escape(t[:60])}</b>{html.escape(t[60:])}" for t in fit_texts]
    for platform, row in BUILTIN.items():
        texts = html_texts if row.text_format == "html" else fit_texts  # Telegram posts are HTML
        rate = _rate(partial(limits.fits, platform), texts, args.seconds)
        print(f"  {platform:28} {rate:>12,.0f}")


if __name__ == "__main__":
    main()
