"""The sandbox server: one loopback HTTP/1.1 server, shared state, faults, limits, control API.

Every platform lives under its own path prefix (`/x/2/tweets`, `/facebook/v21.0/...`); each
platform's spec names its emulator (`PlatformSpec.emulator`), imported when the sandbox starts. Each
connection gets a thread and keep-alive, and the hot path takes no lock when no fault or limit is
set, so the fan-out benchmark is not measuring the sandbox. `/__sandbox/...` is the control API.
The HTTP server module is imported on `start()` only: importing the sandbox stays cheap.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from distributor.errors import ConfigError
from distributor.platform import BUILTIN, load, platforms
from distributor.sandbox.emulator import (
    BadRequest,
    Emulator,
    Headers,
    Post,
    Reply,
    Request,
    Route,
    html_error_page,
)
from distributor.sandbox.faults import Decision, FaultRule, Faults, RouteLimits, rule_from_dict
from distributor.sandbox.state import SandboxState

if TYPE_CHECKING:
    from distributor.sandbox.server import Handler, Server

log = logging.getLogger(__name__)

# The built-in platforms' emulators ("module:Class"); plugins' come from `emulators()`.
EMULATORS: dict[str, str] = {name: row.emulator for name, row in BUILTIN.items() if row.emulator}
# Telegram puts the bot token in the path (/bot<token>/sendMessage): never keep it in the log.
_TOKEN_IN_PATH = re.compile(r"^/bot[^/]+(?=/)")


def emulators() -> dict[str, str]:
    """Every known platform's emulator ("module:Class"): the built-ins and entry-point plugins."""
    return {name: row.emulator for name, row in platforms().items() if row.emulator}


def check_loopback(host: str) -> str:
    """The address to bind for `host`; ConfigError unless it is a loopback address."""
    name = host.strip().lower()
    if name in ("localhost", ""):
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
        if address.is_loopback:
            return str(address)
    except ValueError:
        pass
    raise ConfigError(
        f"sandbox host {host!r} is not a loopback address: the sandbox only listens on "
        "127.0.0.1, ::1 or localhost"
    )


def _preload() -> None:
    """Import what emulators load lazily, before handler threads can race for it.

    Emulators count text with `distributor.limits`, which imports twitter_text on first use;
    that package's circular imports fail ("partially initialized module") when two threads
    import it at once, e.g. the first X and Mastodon posts of a fan-out.
    """
    from distributor.limits import load_twitter_text

    load_twitter_text()  # twitter-text-parser is a dependency: failing to import it is an error


class Sandbox:
    """The in-process platform sandbox. `start()`, use `url`, `stop()` (or `with Sandbox():`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        *,
        platforms: Iterable[str] | None = None,
        faults: Iterable[FaultRule] = (),
        limits: Iterable[tuple[str, str, int, float]] = (),
    ) -> None:
        self.host = check_loopback(host)
        self.port = port
        self.state = SandboxState()
        self.emulators = self._load(platforms)
        self._routes = {name: self._compile(emu.routes()) for name, emu in self.emulators.items()}
        self.faults = Faults(seed, validate=lambda r: self.check_target(r.platform, r.route))
        self.limits = RouteLimits(self.state.now)
        # Given at construction (e.g. on the command line): they survive reset().
        self._initial_faults = list(faults)
        self._initial_limits = list(limits)
        for rule in self._initial_faults:
            self.check_target(rule.platform, rule.route)
        for platform, route, _, _ in self._initial_limits:
            self.check_target(platform, route, wildcards=False)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Called with every request-log entry (e.g. `distributor sandbox` prints them).
        self.observer: Callable[[dict[str, Any]], None] | None = None
        self.reset()

    def _load(self, names: Iterable[str] | None) -> dict[str, Emulator]:
        known = emulators()
        wanted = list(names) if names is not None else list(known)
        found: dict[str, Emulator] = {}
        for name in wanted:
            if name not in known:
                raise ConfigError(f"sandbox: no emulator for platform {name!r}")
            found[name] = load(known[name])(self.state)
        return found

    @staticmethod
    def _compile(routes: list[Route]) -> list[tuple[Route, re.Pattern[str]]]:
        return [(route, re.compile(route.pattern)) for route in routes]

    def route_names(self, platform: str) -> list[str]:
        """The route names faults and limits can target on `platform` (in declaration order)."""
        return list(dict.fromkeys(route.name for route, _ in self._routes.get(platform, [])))

    def check_target(self, platform: str, route: str, *, wildcards: bool = True) -> None:
        """ConfigError unless `platform`/`route` name something this sandbox serves.

        A typo in a fault would otherwise never fire and a test would pass for the wrong reason.
        Platforms known but not served here (`platforms=` left them out) accept any route name.
        """
        if wildcards and platform == "*":
            every = {name for p in self.emulators for name in self.route_names(p)}
            if route != "*" and route not in every:
                raise ConfigError(f"sandbox: no platform has a route {route!r}")
            return
        if platform not in self.emulators and platform not in emulators():
            known = ", ".join(emulators())
            raise ConfigError(f"sandbox: unknown platform {platform!r} (known: {known})")
        names = self.route_names(platform)
        if names and route not in names and not (wildcards and route == "*"):
            raise ConfigError(
                f"sandbox: {platform} has no route {route!r} (routes: {', '.join(names)})"
            )

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen and serve in a daemon thread; ConfigError when the port cannot be bound."""
        if self._server is not None:
            return self
        from distributor.sandbox.server import Handler, Server, Server6

        _preload()
        server_cls: type[Server] = Server6 if ":" in self.host else Server
        self._stopping.clear()
        try:
            self._server = server_cls((self.host, self.port), Handler)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(
                f"sandbox: cannot listen on {self.host}:{self.port}: {reason}"
            ) from None
        self._server.sandbox = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.name = f"sandbox:{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        if self._server is not None:
            self._server.stopping = True  # kept-alive connections would keep their threads
            self._server.shutdown()
            self._server.server_close()
            self._server.drop_idle()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def drop_connections(self) -> None:
        """End the kept-alive connections no request is using (clients reconnect when they
        next send); tests call it between tests so idle connections do not pile up threads."""
        if self._server is not None:
            self._server.drop_idle()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, platform: str) -> str:
        return f"{self.url}/{platform}"

    # -- inspection and control ----------------------------------------------------------

    def set_limit(self, platform: str, route: str, limit: int, window: float) -> None:
        """A fixed window of `limit` requests per `window` seconds per account on one route."""
        self.check_target(platform, route, wildcards=False)
        self.limits.set(platform, route, limit, window)

    def posts(self, platform: str, include_deleted: bool = False) -> list[Post]:
        return self.state.posts(platform, include_deleted)

    def requests(self, platform: str | None = None) -> list[dict[str, Any]]:
        """The request log (oldest first), optionally of one platform."""
        # Handler threads append without the lock; deque.copy() is one C call (atomic under
        # the GIL) where iterating the live deque fails with "deque mutated during iteration".
        entries = self.state.log.copy()
        return [r for r in entries if platform is None or r["platform"] == platform]

    def reset(self) -> None:
        """Forget posts, requests, faults and limits; restore the ones given at construction."""
        self.state.clear()
        self.faults.clear()
        self.limits.clear()
        for rule in self._initial_faults:
            self.faults.add(FaultRule(**rule.to_dict()))
        for name, emulator in self.emulators.items():
            for route, (limit, window) in getattr(emulator, "default_limits", {}).items():
                self.limits.set(name, route, limit, window)
        for platform, route, limit, window in self._initial_limits:
            self.limits.set(platform, route, limit, window)

    # -- request handling ----------------------------------------------------------------

    def dispatch(self, h: Handler) -> None:
        started = time.perf_counter()
        split = urlsplit(h.path)
        platform, _, rest = split.path.lstrip("/").partition("/")
        if platform in ("__sandbox", ""):  # "/" answers the control index
            from distributor.sandbox.control import handle_control

            h.send(handle_control(self, h.command, "/" + rest, split.query, h.read_body()))
            return
        emulator = self.emulators.get(platform)
        if emulator is None:
            h.read_body()
            h.send(
                Reply(
                    404, {"error": f"no emulator for {platform!r}", "known": list(self.emulators)}
                )
            )
            return
        path = "/" + rest
        route, groups = self._match(platform, h.command, path)
        decision = self.faults.decide(platform, route.name if route else "")
        if decision.latency:
            self._stopping.wait(decision.latency)
        rule = decision.rule
        if rule is not None and rule.kind == "reset":
            self._log(platform, h.command, path, route, 0, started, "reset")
            h.reset()
            return
        req = Request(h.command, path, parse_qs(split.query), Headers(h.headers.items()), b"")
        req.body = h.read_body()
        if rule is not None and rule.kind == "hang":
            self._log(platform, h.command, path, route, 0, started, "hang")
            self._stopping.wait(rule.seconds)
            h.reset()
            return
        reply, limited = self._answer(emulator, route, groups, req, rule)
        fault = rule.kind if rule is not None else "limit" if limited else ""
        if rule is not None and rule.kind == "lost":
            if rule.mode == "reset":
                self._log(platform, h.command, path, route, 0, started, "lost")
                h.reset()
                return
            reply = html_error_page(504)
        self._log(platform, h.command, path, route, reply.status, started, fault)
        h.send(reply)

    def _match(self, platform: str, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route, pattern in self._routes[platform]:
            if route.method == method:
                m = pattern.fullmatch(path)
                if m:
                    return route, m.groupdict()
        return None, {}

    def _answer(
        self,
        emulator: Emulator,
        route: Route | None,
        groups: dict[str, str],
        req: Request,
        rule: FaultRule | None,
    ) -> tuple[Reply, bool]:
        """The reply, and whether a route limit refused the request."""
        if route is None:
            return emulator.error_reply(404, "not_found"), False
        if rule is not None and rule.kind == "error":
            return emulator.error_reply(rule.status, rule.error), False
        if rule is not None and rule.kind == "rate_limit":
            reset_at = self.state.now() + (rule.seconds or 60.0)
            limit = self.limits.limit_of(emulator.platform, route.name)
            return emulator.rate_limited_reply(reset_at, limit), False
        taken = self.limits.take(emulator.platform, route.name, emulator.account_of(req))
        if taken is None:
            return self._call(emulator, route, groups, req), False
        win, allowed = taken
        if allowed:
            reply = self._call(emulator, route, groups, req)
        else:
            reply = emulator.rate_limited_reply(win.reset_at, win.limit)
        headers = emulator.rate_headers(win.limit, win.limit - win.used, win.reset_at)
        reply.headers = {**headers, **reply.headers}
        return reply, not allowed

    @staticmethod
    def _call(emulator: Emulator, route: Route, groups: dict[str, str], req: Request) -> Reply:
        try:
            return route.handler(req, **groups)
        except BadRequest:
            return emulator.error_reply(400, "invalid")
        except Exception:
            log.exception("sandbox: %s route %s crashed", emulator.platform, route.name)
            return emulator.error_reply(500, "server")

    def _log(
        self,
        platform: str,
        method: str,
        path: str,
        route: Route | None,
        status: int,
        started: float,
        fault: str,
    ) -> None:
        if path.startswith("/bot"):
            path = _TOKEN_IN_PATH.sub("/bot***", path)
        entry = {
            "platform": platform,
            "method": method,
            "path": path,
            "route": route.name if route else None,
            "status": status,
            "fault": fault or None,
            "time": self.state.now(),
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        self.state.log.append(entry)  # deque.append is atomic
        observer = self.observer
        if observer is not None:
            observer(entry)


__all__ = [
    "EMULATORS",
    "Decision",
    "Sandbox",
    "SandboxState",
    "check_loopback",
    "emulators",
    "rule_from_dict",
]
