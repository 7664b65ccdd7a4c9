"""Render hostile templates, each in a forked child under an address-space limit (forked from
a fresh single-threaded helper process), and report
per template: the one-line result, seconds, traced peak (tracemalloc) and the child's peak RSS
above the parent's. Used by test_template_memory.py and for RELIABILITY.md:

    .venv/bin/python tests/hardening/template_probe.py        # prints a Markdown table
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import tracemalloc
from typing import Any

LIMIT_BYTES = 1536 * 2**20  # a child that tries more gets MemoryError, not the machine's OOM
VALUES = {"title": "Ländergipfel in Berlin", "link": "https://news.example/a", "language": "de"}


def _render(source: str) -> dict[str, Any]:
    from distributor.errors import TemplateError
    from distributor.render import engine

    tracemalloc.start()
    started = time.monotonic()
    try:
        template = engine._compile(source.encode(), "probe.txt.j2", "probe.txt.j2")
        text = engine.run(template, VALUES, max_chars=100_000)
        result = f"rendered {len(text)} characters"
    except TemplateError as exc:
        result = str(exc)
    except MemoryError:
        result = "MemoryError (outside the template guards)"
    took = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"result": result, "seconds": round(took, 3), "traced": peak}


def stopped_by_a_guard(message: str) -> bool:
    """Whether a render's error says a guard stopped it: an operation refused, nesting too deep,
    or the watchdog at MAX_SECONDS. (A render that ran to its end instead would take hours or
    the machine's memory: the test's timeout and the address-space limit are the hang guards.)"""
    import re

    from distributor.render import engine

    stopped = rf": rendering took longer than {engine.MAX_SECONDS:g} s \(stopped\)$"
    guards = rf": not allowed in templates: |: expressions nested too deeply$|{stopped}"
    return re.search(guards, message) is not None


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def probe(source: str) -> dict[str, Any]:
    """One template in a forked child (imports are done once, in the parent)."""
    read, write = os.pipe()
    base = _rss_kib()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
            report = _render(source)
            report["rss"] = max(0, _rss_kib() - base) * 1024
            os.write(write, json.dumps(report).encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"result": f"child died (status {status})", "seconds": 0, "traced": 0, "rss": 0}
    return json.loads(b"".join(chunks))  # type: ignore[no-any-return]


def probe_all(sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every template, from a fresh helper process: forking is safe only from a process
    without other threads (a pytest process has some; a child could inherit a held lock)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--json"],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _warm() -> None:
    from distributor.render import engine

    engine._compile(b"{{ title }}", "warm.txt.j2", "warm.txt.j2")  # imports before forking


def main() -> None:
    if "--json" in sys.argv:  # the helper: sources on stdin, reports on stdout
        sources = json.loads(sys.stdin.read())
        _warm()
        print(json.dumps({name: probe(source) for name, source in sources.items()}))
        return
    sys.path.insert(0, os.path.dirname(__file__))
    from test_template_memory import AMPLIFIERS

    reports = probe_all(AMPLIFIERS)
    print("| template | result | time | traced peak | RSS above parent |")
    print("|---|---|---|---|---|")
    for name, r in reports.items():
        print(
            f"| {name} | {r['result'][:70]} | {r['seconds']:.2f} s | "
            f"{r['traced'] / 2**20:.1f} MiB | {r['rss'] / 2**20:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
