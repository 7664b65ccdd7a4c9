"""Signed webhook requests accepted per second by `distributor serve` (a script, not a test).

Run: .venv/bin/python bench/webhook_bench.py [--seconds 10] [--clients 8] [--open 0.5 0.8]
`distributor serve` (1 process, SQLite store) listens on 127.0.0.1. Closed loop: `--clients`
threads post distinct, signed articles (Standard Webhooks headers) back to back for a bounded
time; its accepted/s is the measured capacity. Open loop: requests are sent on a fixed schedule
at each `--open` fraction of that capacity, whether or not earlier ones were answered, and each
latency counts from the request's scheduled time (so a server that falls behind shows it);
bodies are signed and connections opened before the schedule starts. The closed loop runs
once more after the open loops: the machine's speed drifts, and the open loops' rates came
from the first capacity (both are reported).
Each 202 means the article's deliveries are committed to the outbox. The server's CPU per
accepted request comes from its /proc counters over each phase.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import hookclient
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


def _signed(tag: str) -> tuple[bytes, dict[str, str]]:
    from distributor.web.signing import parse_secret, sign_headers

    body = json.dumps(
        {
            "url": f"https://www.nordstadt-kurier.de/hook/{tag}",
            "title": f"Eilmeldung {tag}: Rat beschließt Haushalt",
        }
    ).encode()
    return body, {
        **sign_headers(parse_secret(SECRET, "bench"), body),
        "Content-Type": "application/json",
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def open_loop(
    url: str, rate: float, seconds: float, tag: str, *, begin: Any, senders: int = 64
) -> tuple[list[float], dict[int, int]]:
    """Send at `rate` per second on a fixed schedule; latency from each scheduled time.

    Like any open-loop load generator, the client does its own work before a request's time:
    every body is signed and every sender's keep-alive connection opened before the schedule
    starts (and outside the measured phase: `begin()` marks its start), so what the latency
    shows is the server (and the machine), not the client signing or connecting late. The
    client is one asyncio loop writing prepared bytes (bench/hookclient.py), not `requests`
    threads: those cost as much CPU per request as the server on the same two cores."""
    prepared = [_signed(f"{tag}/{i}") for i in range(int(rate * seconds))]
    return hookclient.open_loop(url, prepared, rate, senders=senders, begin=begin)


def load(url: str, seconds: float, clients: int) -> tuple[list[float], dict[int, int]]:
    """Closed loop: `clients` connections posting distinct signed articles back to back."""
    return hookclient.closed_loop(url, lambda n, i: _signed(f"{n}/{i}"), seconds, clients)


def _phase(
    latencies: list[float], statuses: dict[int, int], took: float, cpu: float
) -> dict[str, Any]:
    latencies = sorted(latencies)
    accepted = statuses.get(202, 0)
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "accepted_per_s": accepted / took,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else 0.0,
        "server_cpu_ms_per_accepted": 1000 * cpu / max(accepted, 1),
    }


def _wait_healthy(base: str) -> None:
    import requests

    for _ in range(300):
        try:
            requests.get(f"{base}/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)


def _measure(pid: int, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run `fn`, with the server's CPU and the wall time counted from its start, or from when
    it calls the `begin` it is given (after its own preparation)."""
    mark = {"cpu": cpu_seconds(pid), "at": time.perf_counter()}

    def begin() -> None:
        mark.update(cpu=cpu_seconds(pid), at=time.perf_counter())

    if "begin" in kwargs:
        kwargs["begin"] = begin
    latencies, statuses = fn(*args, **kwargs)
    took, cpu = time.perf_counter() - mark["at"], cpu_seconds(pid) - mark["cpu"]
    return _phase(latencies, statuses, took, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--open", type=float, nargs="*", default=[0.5, 0.8])
    args = parser.parse_args()
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
            url = f"{base}/hooks/articles"
            _wait_healthy(base)
            result = _measure(proc.pid, load, url, args.seconds, args.clients)
            result["clients"] = args.clients
            capacity, result["open"] = result["accepted_per_s"], []
            for share in args.open:
                rate = max(1.0, share * capacity)
                tag = f"open{share}"
                run = _measure(proc.pid, open_loop, url, rate, args.seconds, tag, begin=None)
                result["open"].append({"share": share, "offered_per_s": rate, **run})
            if args.open:  # the machine's speed drifts: was the capacity still the same?
                after = _measure(proc.pid, load, url, args.seconds, args.clients)
                result["capacity_after_per_s"] = after["accepted_per_s"]
        finally:
            proc.terminate()
            proc.wait(20)
    print(
        f"webhook: closed loop, {args.clients} clients: {result['accepted_per_s']:.0f} accepted/s; "
        f"latency p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms; server CPU "
        f"{result['server_cpu_ms_per_accepted']:.1f} ms per accepted request; {result['statuses']}"
    )
    for run in result["open"]:
        print(
            f"  open loop at {run['share']:.0%} of that ({run['offered_per_s']:.0f}/s offered): "
            f"{run['accepted_per_s']:.0f} accepted/s, p50 {run['p50_ms']:.0f} ms, p99 "
            f"{run['p99_ms']:.0f} ms, server CPU {run['server_cpu_ms_per_accepted']:.1f} ms per "
            f"accepted request; {run['statuses']}"
        )
    if "capacity_after_per_s" in result:
        again = result["capacity_after_per_s"]
        print(f"  closed loop again after the open loops: {again:.0f} accepted/s")
    print("RESULT " + json.dumps({"webhook": result}))


if __name__ == "__main__":
    main()
