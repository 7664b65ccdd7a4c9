"""Cold start and rendering speed: what a newsroom feels on every CLI call (a script, not a test).

Run: .venv/bin/python bench/coldstart_bench.py [--runs 7] [--seconds 2]
Cold start: wall time of fresh processes (after one warm-up that writes bytecode, as an install
does, and compiled templates, as any earlier call does), median of `--runs`, as a ratio to
`python -c pass` in
the same run (the machine's speed cancels out). Render: fitted posts per CPU second (one core),
each of up to `--articles` distinct articles rendered once (different titles, teasers, lengths,
tags and images, so no cache of one article's text helps) on every example channel that
planning routes it to; per wall second beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "examples" / "distributor.toml"
BIN = Path(sys.executable).parent
# Words of German and English news teasers; articles are drawn from them with a fixed seed.
WORDS = [
    "Stadtrat",
    "Haushalt",
    "Bürgermeisterin",
    "Verkehrswende",
    "Straßenbahn",
    "Kita",
    "Mieten",
    "Landesregierung",
    "Wärmepumpen",
    "Förderung",
    "Gemeinderat",
    "Überschwemmung",
    "Feuerwehr",
    "Schulen",
    "Bahnstrecke",
    "Gericht",
    "council",
    "budget",
    "mayor",
    "housing",
    "flood",
    "rail",
    "strike",
    "hospital",
    "election",
    "court",
    "energy",
    "prices",
    "beschließt",
    "fordert",
    "kritisiert",
    "warnt",
    "plant",
    "verschiebt",
    "approves",
    "warns",
    "delays",
    "plans",
    "backs",
    "nach",
    "langer",
    "Debatte",
    "mit",
    "knapper",
    "Mehrheit",
    "für",
    "Familien",
    "in",
    "der",
    "Innenstadt",
    "ab",
    "Januar",
]


def _median_ms(argv: list[str], runs: int, **extra: str) -> float:
    times = []
    env = {**_env(), **extra}
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=env)  # warm-up
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=env)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _env() -> dict[str, str]:
    # No stray user config or sandbox override may change what is measured. Bytecode is written
    # (the warm-up run does it) as pip writes it on install: without it every start compiles
    # the project's modules from source again (+80 ms for preview).
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTRIBUTOR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def sample_article() -> Path:
    """The first sample article the project ships (JSON) for the preview figure."""
    return sorted((REPO / "examples" / "articles").glob("*.json"))[0]


def coldstart(runs: int) -> dict[str, float]:
    """Median ms of each command. preview keeps its compiled templates in a folder of this run's
    (the warm-up fills it, as any earlier call would); beside it, preview with no such cache."""
    cli = str(BIN / "distributor")
    base = _median_ms([sys.executable, "-c", "pass"], runs)
    helps = _median_ms([cli, "--help"], runs)
    preview_argv = [cli, "preview", str(sample_article()), "--config", str(CONFIG), "--json"]
    with tempfile.TemporaryDirectory() as cache:
        preview = _median_ms(preview_argv, runs, DISTRIBUTOR_CACHE_DIR=cache)
    uncached = _median_ms(preview_argv, runs, DISTRIBUTOR_CACHE_DIR="")
    return {
        "python -c pass": base,
        "distributor --help": helps,
        "preview --json": preview,
        "preview, no template cache": uncached,
    }


def distinct_articles(n: int, seed: int = 7) -> list[Any]:
    """`n` articles that differ in title, teaser length, section and tags."""
    from distributor.article import Article, Image

    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(30, 90))]
        title = " ".join(words[:8]) + f" {i}"
        teaser = ". ".join(" ".join(words[k : k + 11]) for k in range(8, len(words), 11)) + "."
        tags = tuple(rnd.sample(WORDS[:24], rnd.randint(0, 5)))
        language = "de" if i % 3 else "en"
        url = f"https://www.nordstadt-kurier.de/lokales/{i}-{words[0].lower()}-{words[1].lower()}"
        # Two of three have a lead image (captions, image-only platforms), credited one time in two.
        image = Image(f"{url}.jpg", alt=title, credit="dpa" if i % 2 else "") if i % 3 else None
        out.append(
            Article(url=url, title=title, teaser=teaser, tags=tags, language=language, image=image)
        )
    return out


def render_rate(seconds: float, n_articles: int) -> tuple[float, float]:
    """Fitted posts per CPU second of this process (one core: what the goal means, whatever the
    neighbours on a shared machine do) and per wall second, rendering each article once."""
    from distributor.config import load_config
    from distributor.render import render
    from distributor.routing import route

    settings = load_config(CONFIG, environ={})
    pool = distinct_articles(n_articles + 20)
    # Each article on the channels planning routes it to (image-only platforms skip those without).
    work = [(a, route(a, settings.channels)) for a in pool]
    for article, channels in work[n_articles:]:  # warm up: lazy imports, compiled templates
        for channel in channels:
            render(article, channel, settings=settings)
    work = work[:n_articles]
    done, cpu, wall = 0, time.process_time(), time.perf_counter()
    for article, channels in work:
        for channel in channels:
            render(article, channel, settings=settings)
        done += len(channels)
        if time.process_time() - cpu >= seconds:
            break
    return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per cold-start figure")
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU time for the render figure")
    parser.add_argument("--articles", type=int, default=4000, help="distinct articles at most")
    args = parser.parse_args(argv)
    figures = coldstart(args.runs)
    base = figures["python -c pass"]
    print(f"cold start, median of {args.runs} runs:")
    for name, ms in figures.items():
        print(f"  {name:27} {ms:7.0f} ms   {ms / base:5.1f}x python -c pass")
    rate, wall_rate = render_rate(args.seconds, args.articles)
    print(
        f"render: {rate:,.0f} fitted posts per CPU second on one core, {wall_rate:,.0f} per wall"
        f" second (distinct articles, each once, up to {args.articles})"
    )
    ratios = {name: ms / base for name, ms in figures.items()}
    print(
        "RESULT "
        + json.dumps(
            {
                "coldstart": {"ms": figures, "ratio": ratios},
                "render": rate,
                "render_wall": wall_rate,
            }
        )
    )


if __name__ == "__main__":
    main()
