"""`distributor sandbox`: run the local platform emulators standalone until Ctrl-C or SIGTERM.

The server is the same `distributor.sandbox.Sandbox` the tests start in-process; this command
only parses faults and limits, prints where everything lives, and waits. Imports of the sandbox
happen inside the command, so `distributor --help` stays fast.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from distributor.sandbox import FaultRule, Sandbox

from distributor.platform import BUILTIN, platforms

# One request a person would try first, per platform (paths after the platform prefix).
EXAMPLES = {name: row.example for name, row in BUILTIN.items()}

EPILOG = """\b
Fault SPEC: PLATFORM:ROUTE:KIND[:VALUE][:key=value...]   (PLATFORM or ROUTE may be *)
  error:STATUS[:KIND]   answer STATUS in the platform's error shape (KIND: server, auth,
                        forbidden, invalid, duplicate, not_found, html); not processed
  rate_limit[:SECONDS]  the platform's own 429, reset in SECONDS (default 60)
  latency:SECONDS       delay, then answer normally (250ms and 2s work too)
  hang[:SECONDS]        read the request, never answer (client read timeout; default 30)
  reset                 close the connection with a TCP RST before reading the request
  lost[:reset|504]      create the post, then reset the connection or answer a 504 page
  keys: count=N (the next N matching requests), rate=0.3 or rate=30% (seeded by --seed)
Routes: create, delete, lookup, media, verify, ... (GET /__sandbox/routes lists them).

\b
Examples:
  distributor sandbox
  distributor sandbox --port 8901 --seed 7 --latency 0.05
  distributor sandbox --fault mastodon:create:error:503:count=2
  distributor sandbox --fault 'x:create:error:503:rate=30%' --fault telegram:create:lost:504
  distributor sandbox --fault bluesky:create:hang:10 --limit mastodon:create:3/60
  distributor sandbox --limit x:create:50/15min --platform x --platform mastodon

\b
Then point a configuration at it (distributor.toml):
  [distributor]
  sandbox = "http://127.0.0.1:8900"
and run `distributor check`, `distributor preview ARTICLE`, `distributor publish ARTICLE`.
Inspect: curl http://127.0.0.1:8900/__sandbox/posts?platform=mastodon
Control: POST/DELETE /__sandbox/faults, POST /__sandbox/limits, POST /__sandbox/reset,
GET /__sandbox/requests (see docs/sandbox.md).
"""


@click.command(epilog=EPILOG)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (127.0.0.1, ::1 or localhost; nothing else).",
)
@click.option(
    "--port",
    default=8900,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port (0 = any free port).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed for rate-based faults: the same seed gives the same sequence.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault (repeatable), e.g. mastodon:create:error:503:count=2.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Delay every request by SECONDS (same as --fault '*:*:latency:SECONDS').",
)
@click.option(
    "--limit",
    "limits",
    multiple=True,
    metavar="PLATFORM:ROUTE:N/WINDOW",
    help="Per-account fixed-window limit (repeatable), e.g. mastodon:create:3/60 or "
    "x:create:50/15min; over it the platform's own 429.",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="NAME",
    help=f"Serve only these platforms (repeatable; default: all of {', '.join(EXAMPLES)}).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print a line per request.")
def sandbox(
    host: str,
    port: int,
    seed: int,
    faults: tuple[str, ...],
    latency: float | None,
    limits: tuple[str, ...],
    platforms: tuple[str, ...],
    quiet: bool,
) -> None:
    """Run the local platform sandbox (loopback only) until Ctrl-C or SIGTERM.

    Every platform API distributor posts to is emulated under its own path prefix
    (http://127.0.0.1:8900/mastodon/api/v1/statuses, .../telegram/bot<TOKEN>/sendMessage ...),
    with the platforms' real status codes, error bodies and rate-limit headers. Faults and
    limits make every failure reproducible; /__sandbox/ lists what each platform received.
    """
    from distributor.sandbox import Sandbox, check_loopback

    check_loopback(host)  # before anything else: refuse to listen beyond loopback
    rules = _rules(faults, latency)
    box = Sandbox(
        host,
        port,
        seed,
        platforms=platforms or None,
        faults=rules,
        limits=[_limit(spec) for spec in limits],
    )
    from distributor.signals import StopSignals

    printing = threading.Lock()
    if not quiet:  # before the server listens: a request the moment it does is printed too
        box.observer = _printer(printing)
    with StopSignals(finishing="stopping the sandbox") as stopped:
        try:
            with printing:  # request lines wait until the banner is out
                box.start()
                _banner(box, rules, seed)
            while not stopped.wait(0.2):
                pass
        finally:
            box.observer = None
            box.stop()
    posts = sum(len(box.posts(name, include_deleted=True)) for name in box.emulators)
    click.echo(f"sandbox stopped ({len(box.requests())} requests, {posts} posts)")


def _rules(specs: tuple[str, ...], latency: float | None) -> list[FaultRule]:
    from distributor.sandbox import FaultRule, parse_fault

    rules = [parse_fault(spec) for spec in specs]
    if latency:
        rules.insert(0, FaultRule(platform="*", route="*", kind="latency", seconds=latency))
    return rules


def _limit(spec: str) -> tuple[str, str, int, float]:
    from distributor.sandbox import parse_limit

    return parse_limit(spec)


def _banner(box: Sandbox, rules: list[FaultRule], seed: int) -> None:
    lines = [f"distributor sandbox listening on {box.url} (seed {seed}, loopback only)", ""]
    width = max(len(name) for name in box.emulators) if box.emulators else 8
    for name in box.emulators:
        example = platforms()[name].example
        lines.append(f"  {name:<{width}}  {box.base_url(name):<42} {example}")
    lines += [
        "",
        "Point a configuration at it (distributor.toml):",
        "  [distributor]",
        f'  sandbox = "{box.url}"',
        f"or set DISTRIBUTOR_SANDBOX_URL={box.url} for one run.",
        "",
    ]
    lines += [f"Fault:   {rule.to_spec()}" for rule in rules]
    lines += [
        f"Limit:   {lim['platform']}:{lim['route']} {lim['limit']} per {lim['window']:g}s"
        for lim in box.limits.to_list()
    ]
    lines += [
        f"Inspect: curl '{box.url}/__sandbox/posts?platform=mastodon'",
        "Stop with Ctrl-C.",
    ]
    _write("\n".join(lines))


def _printer(lock: threading.Lock) -> Any:
    """A request-log observer printing one line per request (from the handler threads).

    `lock` keeps lines whole when handler threads print at once, and lets the command hold
    them back while it prints the banner.
    """

    def show(entry: dict[str, Any]) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(entry["time"]))
        route = entry["route"] or "-"
        fault = f"  [{entry['fault']}]" if entry["fault"] else ""
        status = entry["status"] or "---"
        line = (
            f"{stamp} {entry['method']:<6} /{entry['platform']}{entry['path']}"
            f"  -> {status} ({route}, {entry['ms']:.1f} ms){fault}"
        )
        with lock:
            _write(line)

    return show


def _write(text: str) -> None:
    """Print and flush at once: the output is often a pipe (a test, a log collector).

    A closed pipe (`distributor sandbox | head -3`) must neither stop the server nor fail the
    request being printed, so output errors are dropped.
    """
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
