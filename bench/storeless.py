"""The honest yardstick for fan-out: the same adapters and thread count, without the store.

Each channel's posts go out one after another (one send in flight per account, as dispatch
keeps it), `threads` channels at a time, with the same adapters and client libraries the worker
uses. What the worker reaches as a ratio of this is what durability (claim, lease, rate window,
outcome and attempt rows) costs.
"""

from __future__ import annotations

import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import add_usage, articles, new_usage, per_delivery


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def storeless(
    config: Path, secrets: dict[str, str], n: int, threads: int, seconds: float
) -> dict[str, Any]:
    """Render and post `n` articles on every channel for at most `seconds`."""
    from distributor.config import load_config
    from distributor.platforms.registry import build_adapter
    from distributor.render import render

    settings = load_config(config, environ=secrets)
    pool = articles(n, tag="storeless-")
    times: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def one_channel(channel: Any) -> None:
        adapter = build_adapter(channel, settings)
        for i, article in enumerate(pool):
            if time.perf_counter() >= deadline:
                return
            adapter.publish(
                render(article, channel, settings=settings), key=f"sl-{i}-{channel.name}"
            )
            with lock:
                times.append(time.perf_counter() - start)

    cpu0, usage = _cpu(), new_usage()
    add_usage(usage, resource.getrusage(resource.RUSAGE_SELF), -1)
    with ThreadPoolExecutor(threads) as executor:
        list(executor.map(one_channel, settings.channels))
    took, cpu = time.perf_counter() - start, _cpu() - cpu0
    add_usage(usage, resource.getrusage(resource.RUSAGE_SELF))
    times.sort()
    return {
        "sent": len(times),
        "seconds": took,
        "per_s": len(times) / took,
        "steady_per_s": _steady(times),
        "cpu_ms_per_delivery": 1000 * cpu / max(len(times), 1),
        "per_delivery": per_delivery(usage, len(times)),
        "times": [t - times[0] for t in times],
    }


def _steady(times: list[float]) -> float:
    """Sends per second from the first to the last (as the worker's figure is taken)."""
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
