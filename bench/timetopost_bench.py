"""Time to post: from the webhook's 202 to the platform's answer, what a breaking-news desk feels.

Run: .venv/bin/python bench/timetopost_bench.py [--articles 30] [--gap 0.3] [--database URL]
`distributor serve` takes signed webhooks and one `distributor worker` (default poll interval)
is already running; the sandbox answers after 20 ms. One article at a time (low load): the
clock starts when the 202 arrives and stops at the time the sandbox logged its answer to the
post's create request. Both clocks are this machine's wall clock.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from common import CLI, env, sandbox
from webhook_bench import SECRET, _port, _signed, _wait_healthy

CONFIG = """
[distributor]
sandbox = "{sandbox}"
database = "{database}"

[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"
"""


def _creates(url: str) -> list[dict[str, Any]]:
    log = requests.get(f"{url}/__sandbox/requests?platform=mastodon", timeout=5).json()
    return [e for e in log if e["route"] == "create" and e["status"] < 300]


def measure(hook: str, sandbox_url: str, n: int, gap: float) -> list[float]:
    """Seconds from each 202 to the platform's answer to that article's post."""
    took, http = [], requests.Session()
    for i in range(n):
        seen = len(_creates(sandbox_url))
        body, headers = _signed(f"ttp-{time.time_ns()}-{i}")
        answer = http.post(hook, data=body, headers=headers, timeout=30)
        accepted = time.time()
        if answer.status_code != 202:
            raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text[:200]}")
        deadline = accepted + 30
        while len(creates := _creates(sandbox_url)) <= seen:
            if time.time() > deadline:
                raise RuntimeError("no post within 30 s of the 202")
            time.sleep(0.005)
        took.append(creates[seen]["time"] - accepted)
        time.sleep(gap)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between articles")
    parser.add_argument("--database", default="", help="store URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    secrets = {"DISTRIBUTOR_WEBHOOK_SECRET": SECRET, "MASTODON_ACCESS_TOKEN": "bench-ttp-token"}
    with tempfile.TemporaryDirectory() as tmp, sandbox("--latency", "0.02") as url:
        database = args.database or f"sqlite:///{tmp}/ttp.db"
        config = Path(tmp) / "distributor.toml"
        config.write_text(CONFIG.format(sandbox=url, database=database), encoding="utf-8")
        port = _port()
        run_env = {**env(), **secrets}
        procs = [
            subprocess.Popen(
                [CLI, "--config", str(config), *argv],
                env=run_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for argv in (["serve", "--port", str(port)], ["worker", "--no-reconcile"])
        ]
        try:
            _wait_healthy(f"http://127.0.0.1:{port}")
            took = measure(f"http://127.0.0.1:{port}/hooks/articles", url, args.articles, args.gap)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(20)
    took.sort()
    p50 = 1000 * statistics.median(took)
    p99 = 1000 * took[min(len(took) - 1, int(0.99 * len(took)))]
    print(
        f"time to post: {len(took)} articles one at a time, 202 -> platform answer: "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms (worker already running, sandbox latency 20 ms)"
    )
    print("RESULT " + json.dumps({"timetopost": {"n": len(took), "p50_ms": p50, "p99_ms": p99}}))


if __name__ == "__main__":
    main()
