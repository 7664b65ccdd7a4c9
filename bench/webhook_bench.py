"""Signed webhook requests accepted per second by `distributor serve` (a script, not a test).

Run: .venv/bin/python bench/webhook_bench.py [--seconds 10] [--clients 8]
`distributor serve` (1 process, SQLite store) listens on 127.0.0.1; `--clients` threads post
distinct, pre-signed articles (Standard Webhooks headers) for a bounded time. Each 202 means the
article's deliveries are committed to the outbox. Figures: accepted/s and latency p50/p99.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import CLI, env

SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFi"
CONFIG = """
[distributor]
sandbox = "http://127.0.0.1:9"
database = "sqlite:///{db}"

[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"

[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TELEGRAM_BOT_TOKEN"
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(url: str, seconds: float, clients: int) -> tuple[list[float], dict[int, int]]:
    import requests

    from distributor.web.signing import parse_secret, sign_headers

    key = parse_secret(SECRET, "bench")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(n: int) -> None:
        http, i = requests.Session(), 0
        while time.perf_counter() < deadline:
            body = json.dumps(
                {
                    "url": f"https://news.example/hook/{n}/{i}",
                    "title": f"Eilmeldung {n}-{i}: Rat beschließt Haushalt",
                }
            ).encode()
            headers = {**sign_headers(key, body), "Content-Type": "application/json"}
            start = time.perf_counter()
            status = http.post(url, data=body, headers=headers, timeout=30).status_code
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    import requests

    port = _port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "distributor.toml"
        config.write_text(CONFIG.format(db=f"{tmp}/hook.db"), encoding="utf-8")
        proc = subprocess.Popen(
            [CLI, "--config", str(config), "serve", "--port", str(port)],
            env={**env(), "DISTRIBUTOR_WEBHOOK_SECRET": SECRET},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    requests.get(f"{base}/healthz", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            start = time.perf_counter()
            latencies, statuses = load(f"{base}/hooks/articles", args.seconds, args.clients)
            took = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(20)
    latencies.sort()
    accepted = statuses.get(202, 0)
    result: dict[str, Any] = {
        "requests": len(latencies),
        "statuses": statuses,
        "accepted_per_s": accepted / took,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else 0.0,
        "clients": args.clients,
    }
    print(
        f"webhook: {accepted} accepted (202) in {took:.1f} s = {result['accepted_per_s']:.0f}/s "
        f"with {args.clients} clients; latency p50 {result['p50_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms; statuses {statuses}"
    )
    print("RESULT " + json.dumps({"webhook": result}))


if __name__ == "__main__":
    main()
