"""Post-log queries over a large store: the CLI and the admin log pages (a script, not a test).

Run: .venv/bin/python bench/logquery_bench.py [--rows 1000000] [--runs 5] [--pages 40] [--store F]
Rows are bulk-inserted with SQL into a temporary SQLite store (30 days, 2% failed, 10 channels;
`--store FILE` keeps it there and reuses it when it exists, to measure again without the fill).
CLI: `distributor log --status failed --since 7d --json` as a fresh process, median of `--runs`.
Pages: what the admin UI shows for "failed, last 7 days", served by uvicorn on 127.0.0.1 with a
Bearer token, p95 of `--pages` requests each: the Posts page (the home page, one row per article
with the "Needs attention" panel: where the desk filters) and the Deliveries page (one row per
delivery: the post log). The goal holds for both.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import CLI, REPO, env

DAY = 86400.0
TOKEN = "bench-admin-token-" + "7" * 32
CONFIG = """
[distributor]
database = "{db}"

[admin]
token_env = "BENCH_ADMIN_TOKEN"

[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"
"""


def fill(path: Path, rows: int) -> float:
    """Create the store, then insert `rows` deliveries (10 per article) in one transaction."""
    from distributor.store import open_store

    open_store(f"sqlite:///{path}").close()
    start, now = time.perf_counter(), time.time()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    articles = rows // 10 + 1
    conn.executemany(
        "INSERT INTO articles (id, canonical_url, title, data, first_seen, source) "
        "VALUES (?, ?, ?, '{}', ?, 'bench')",
        (
            (
                f"a{i:031d}",
                f"https://news.example/{i}",
                f"Story {i}",
                now - 30 * DAY * (1 - i / articles),
            )
            for i in range(articles)
        ),
    )
    conn.executemany(
        "INSERT INTO deliveries (article_id, channel, platform, account_key, generation, state, "
        "draft, idem_key, fence, attempts, created_at, updated_at, last_error) "
        "VALUES (?, ?, 'mastodon', ?, 0, ?, '{}', ?, 1, 1, ?, ?, ?)",
        _deliveries(rows, articles, now),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


def _deliveries(rows: int, articles: int, now: float) -> Iterator[tuple[Any, ...]]:
    for i in range(rows):
        a = i // 10
        failed = i % 50 == 7
        ts = now - 30 * DAY * (1 - a / articles)
        yield (
            f"a{a:031d}",
            f"ch{i % 10}",
            f"mastodon:acct{i % 10}",
            "failed" if failed else "sent",
            f"k{i}",
            ts,
            ts,
            "rejected: 422 Validation failed" if failed else None,
        )


def cli_median(config: Path, runs: int) -> tuple[float, int]:
    argv = [CLI, "log", "--config", str(config), "--status", "failed", "--since", "7d", "--json"]
    times, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env(), cwd=REPO)
        times.append(time.perf_counter() - start)
        count = len(json.loads(out.stdout))
    return 1000 * statistics.median(times), count


# result key -> (path, what each row of the page links to)
PAGES = {
    "page": ("/admin/", "/admin/articles/"),
    "deliveries": ("/admin/deliveries", "/admin/deliveries/"),
}


def page_p95(config: Path, pages: int) -> dict[str, tuple[float, float]]:
    """(median, p95) in ms per page of PAGES, filtered to failed in the last 7 days."""
    import requests
    import uvicorn

    from distributor.config import load_config
    from distributor.web.app import create_app

    settings = load_config(
        config, environ={"BENCH_ADMIN_TOKEN": TOKEN, "DISTRIBUTOR_SESSION_SECRET": "s" * 48}
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * DAY))
        return {
            key: _p95(http, f"{base}{path}?state=failed&since={since}", row, pages)
            for key, (path, row) in PAGES.items()
        }
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _p95(http: Any, url: str, row: str, pages: int) -> tuple[float, float]:
    warm = http.get(url, timeout=30)  # templates compiled
    warm.raise_for_status()
    if f'href="{row}' not in warm.text:
        raise SystemExit(f"{url}: the page lists nothing")
    times = []
    for _ in range(pages):
        start = time.perf_counter()
        http.get(url, timeout=30).raise_for_status()
        times.append(1000 * (time.perf_counter() - start))
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--store", type=Path, help="keep the filled store here (reused if there)")
    args = parser.parse_args()
    result: dict[str, Any] = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.store.resolve() if args.store else Path(tmp) / "log.db"
        config = Path(tmp) / "distributor.toml"
        config.write_text(CONFIG.format(db=f"sqlite:///{db}"), encoding="utf-8")
        if db.exists():
            print(f"logquery: reusing {db} (filled before; --rows is not checked)")
        else:
            result["fill_s"] = fill(db, args.rows)
            print(f"logquery: {args.rows:,} deliveries inserted in {result['fill_s']:.1f} s")
        result["cli_ms"], result["cli_rows"] = cli_median(config, args.runs)
        print(
            f"  distributor log --status failed --since 7d --json: {result['cli_ms']:.0f} ms "
            f"median of {args.runs} ({result['cli_rows']} rows printed, default --limit)"
        )
        for key, (median, p95) in page_p95(config, args.pages).items():
            result[f"{key}_median_ms"], result[f"{key}_p95_ms"] = median, p95
            print(
                f"  admin log page {PAGES[key][0]} (failed, last 7 days): median {median:.0f} ms, "
                f"p95 {p95:.0f} ms over {args.pages} requests"
            )
    print("RESULT " + json.dumps({"logquery": result}))


if __name__ == "__main__":
    main()
