"""What the delivery benchmarks share: a sandbox process, a many-account config, articles, timings.

The sandbox runs as its own process (`distributor sandbox`), so the process measured is only
`distributor`; everything listens on 127.0.0.1. Configs name one environment variable per
credential and account, so every channel is its own account on the platform side too.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
BIN = Path(sys.executable).parent
CLI = str(BIN / "distributor")

# platform -> (account option, credential options) of one channel; {i} = account number
CHANNEL_TEMPLATES: dict[str, str] = {
    "x": (
        'consumer_key_env = "X_CK_{i}"\nconsumer_secret_env = "X_CS_{i}"\n'
        'access_token_env = "X_AT_{i}"\naccess_token_secret_env = "X_ATS_{i}"'
    ),
    "facebook": 'page_id = "10485760000{i:04d}"\npage_token_env = "FB_TOKEN_{i}"',
    "mastodon": 'access_token_env = "MASTODON_TOKEN_{i}"',
    "bluesky": 'handle = "news{i}.example.com"\napp_password_env = "BSKY_PW_{i}"',
    "telegram": 'chat_id = "@bench_news_{i}"\nbot_token_env = "TG_TOKEN_{i}"',
}
FANOUT_PLATFORMS = list(CHANNEL_TEMPLATES)
# The platforms' own per-account quotas (X 100 posts per 15 min, Mastodon 300 per 3 h, Facebook
# 4,800 per day), which the sandbox enforces, would cap a throughput run long before
# distributor does: lifted for those runs (the rate-limit benchmark sets its own).
NO_QUOTAS = [
    arg
    for route in ("x:create", "mastodon:create", "facebook:create")
    for arg in ("--limit", f"{route}:1000000000/1")
]


def secrets_for(platforms: list[str], accounts: int) -> dict[str, str]:
    """Fake, distinct credential values for every variable the config names."""
    env: dict[str, str] = {}
    for platform in platforms:
        for i in range(accounts):
            for var in re.findall(r'_env = "([A-Z_0-9{}i]+)"', CHANNEL_TEMPLATES[platform]):
                name = var.format(i=i)
                env[name] = _fake_secret(platform, name, i)
    return env


def _fake_secret(platform: str, name: str, i: int) -> str:
    if platform == "telegram":
        return f"{100000000 + i}:AAF-bench-token-{i:04d}-0123456789abcdef"
    if name.startswith("X_AT_"):
        return f"{1000 + i}-bench-access-token-{i}"
    if platform == "bluesky":
        return f"bnch-pw{i:02d}-abcd-wxyz"
    return f"bench-{name.lower()}-{i:04d}-0123456789"


def write_config(
    path: Path,
    sandbox_url: str,
    database: str,
    platforms: list[str],
    accounts: int,
    *,
    rate: str | None = None,
    dispatch: str = "",
) -> Path:
    """A distributor.toml with `accounts` channels on each platform, all against the sandbox."""
    parts = [f'[distributor]\nsandbox = "{sandbox_url}"\ndatabase = "{database}"\n']
    if dispatch:
        parts.append(f"[dispatch]\n{dispatch}\n")
    for platform in platforms:
        for i in range(accounts):
            body = CHANNEL_TEMPLATES[platform].format(i=i)
            rate_line = f'rate = "{rate}"\n' if rate else ""
            parts.append(f'[channels.{platform}_{i}]\nplatform = "{platform}"\n{rate_line}{body}\n')
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def articles(n: int, tag: str = "") -> list[Any]:
    """`n` distinct text articles (no image: nothing is fetched from outside)."""
    from distributor.article import Article

    return [
        Article(
            url=f"https://news.example/bench/{tag}story-{i}",
            title=f"Stadtrat beschließt Haushalt {i}: was sich für Familien ändert",
            teaser=f"Die wichtigsten Punkte der Sitzung {i} im Überblick. Mehr Geld für Kitas.",
            section="Lokales",
            tags=("Haushalt", "Stadtrat"),
            language="de",
        )
        for i in range(n)
    ]


def env() -> dict[str, str]:
    # No stray user configuration or sandbox override may change what is measured. Where
    # compiled templates are kept changes nothing measured; the test suite's quick run sets it.
    keep = ("DISTRIBUTOR_CACHE_DIR",)
    return {k: v for k, v in os.environ.items() if not k.startswith("DISTRIBUTOR_") or k in keep}


@contextmanager
def sandbox(*args: str) -> Iterator[str]:
    """A `distributor sandbox` process on a free loopback port; yields its URL. Its log goes
    to a file (a pipe nobody reads could fill and stall it); crashes of an emulator route
    (answered with HTTP 500) are printed when it stops."""
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [CLI, "sandbox", "--port", "0", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env(),
        )
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+", first)
            if not found:
                raise RuntimeError(f"sandbox did not start: {first!r}")
            yield found.group(0)
        finally:
            proc.terminate()
            proc.wait(10)
            errors.seek(0)
            _report_crashes(errors.read())


def _report_crashes(log: str) -> None:
    crashes = re.findall(r"sandbox: (\w+) route (\w+) crashed", log)
    if not crashes:
        return
    kinds = sorted(set(re.findall(r"^(\w+(?:Error|Exception)\b.*)$", log, re.MULTILINE)))
    where = ", ".join(sorted({f"{p}/{r}" for p, r in crashes}))
    print(f"sandbox: {len(crashes)} emulator crash(es) answered 500 ({where}): {kinds[:3]}")


def set_limit(url: str, spec: str) -> None:
    """Add a sandbox limit while it runs (`platform:route:N/W`)."""
    import requests

    requests.post(f"{url}/__sandbox/limits", data=spec, timeout=5).raise_for_status()


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of runs, threads, articles)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def reset_sandbox(url: str) -> None:
    """Forget every post and request the sandbox has seen (its limits as at its start): a run
    that sends the same posts again is then measured as the first one was, not against
    duplicates and a longer post history."""
    import requests

    requests.post(f"{url}/__sandbox/reset", timeout=5).raise_for_status()


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def completions(store: Any) -> list[float]:
    """Finish times (monotonic from the first) of every sent attempt in the store."""
    import sqlalchemy as sa

    t = store._t["attempts"]
    with store._engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.finished_at).where(t.c.outcome == "sent").order_by(t.c.finished_at)
        ).all()
    stamps = [_ts(r[0]) for r in rows]
    return [s - stamps[0] for s in stamps] if stamps else []


def _ts(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - start, out


def save_plot(
    fig: Any,
    ax: Any,
    path: Path,
    title: str,
    ylabel: str,
    xlabel: str = "seconds since the first delivery",
) -> None:
    """Label, lay out and write a plot (every plot shares the look)."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def new_usage() -> dict[str, float]:
    """Kernel CPU seconds and context switches, all zero: what `add_usage` adds to."""
    return {"system_s": 0.0, "voluntary": 0.0, "involuntary": 0.0}


def add_usage(into: dict[str, float], usage: Any, sign: int = 1) -> None:
    """Add (or with `sign=-1` take away) one `resource.struct_rusage`'s figures."""
    into["system_s"] += sign * usage.ru_stime
    into["voluntary"] += sign * usage.ru_nvcsw
    into["involuntary"] += sign * usage.ru_nivcsw


def per_delivery(usage: dict[str, float], n: int) -> dict[str, float]:
    """System CPU ms and context switches per delivery."""
    n = max(n, 1)
    return {
        "system_ms": 1000 * usage["system_s"] / n,
        "voluntary": usage["voluntary"] / n,
        "involuntary": usage["involuntary"] / n,
    }


def usage_line(figures: dict[str, float]) -> str:
    """`per_delivery`'s figures as the reports print them."""
    return (
        f"{figures['system_ms']:.2f} ms of it in the kernel, {figures['voluntary']:.1f} "
        f"voluntary and {figures['involuntary']:.1f} involuntary context switches"
    )
