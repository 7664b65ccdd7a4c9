"""One chaos soak: worker processes publish a stream of articles through a faulty sandbox while a
supervisor SIGKILLs and restarts them; then faults stop, reconcile and a worker settle the rest,
and the invariants are checked (see `chaos/__init__.py`).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chaos.config import CHANNELS, config_text
from distributor.article import Article
from distributor.config import Settings, load_config
from distributor.sandbox import Sandbox
from distributor.store.models import State

LEASE = 3.0
DISPATCH = (
    f"\n[dispatch]\nlease = {LEASE}\nattempts = 2\nbackoff = 0.05\nmax_backoff = 0.5\n"
    "jitter = 0.05\nbudget = 3\ngive_up_after = 1000\npace_limit = 2\n"
)
# Platforms whose 429 states a short reset; LinkedIn resets at midnight, Threads states none.
SHORT_RESETS = ("x", "facebook", "mastodon", "bluesky", "telegram")
_SCRIPT = Path(sys.executable).with_name("distributor")
_MAIN = "from distributor.cli import main; main()"
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-c", _MAIN]


def _lift_platform_limits(box: Sandbox) -> None:
    """The emulators enforce the platforms' real quotas (X: 100 posts per 15 minutes, Threads:
    250 per day); a soak posts more than that, and the 429s it injects itself are the test."""
    from distributor.sandbox import threads

    box.limits.clear()
    threads.PUBLISH_LIMIT = 10**9


def fault_rules(rng: random.Random) -> list[dict[str, Any]]:
    """The background faults: every kind the sandbox has, at modest rates, on every platform."""
    rules: list[dict[str, Any]] = [
        {"kind": "latency", "seconds": 0.05, "rate": 0.3},
        {"kind": "error", "status": 503, "rate": 0.06},
        {"kind": "error", "status": 502, "error": "html", "rate": 0.03},
        {"kind": "error", "status": 500, "rate": 0.02},
        {"kind": "reset", "rate": 0.03},
        {"kind": "lost", "mode": "reset", "rate": 0.02},
        {"kind": "lost", "mode": "504", "rate": 0.02},
    ]
    rules += [
        {"platform": p, "kind": "rate_limit", "seconds": 1, "rate": 0.04} for p in SHORT_RESETS
    ]
    rng.shuffle(rules)  # the first rule that fires decides: vary which kind wins ties
    return rules


@dataclass
class Figures:
    backend: str
    seconds: float = 0.0
    articles: int = 0
    deliveries: int = 0
    states: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    workers_started: int = 0
    workers_killed: int = 0
    duplicates: int = 0
    lost: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    audit_missing: int = 0
    integrity: list[str] = field(default_factory=list)
    reconcile: dict[str, int] = field(default_factory=dict)
    worker_tracebacks: int = 0
    scheduled: int = 0  # posts of articles with publish_at or an embargo
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items())) or "none"
        unknown = ", ".join(f"{k}: {n}" for k, n in sorted(self.unknown.items())) or "none"
        states = ", ".join(f"{k} {n}" for k, n in sorted(self.states.items()) if n)
        rec = ", ".join(f"{k} {n}" for k, n in sorted(self.reconcile.items())) or "none"
        return [
            f"backend: {self.backend}, {self.seconds:.0f} s of load",
            f"articles: {self.articles}, deliveries: {self.deliveries} ({states})",
            f"requests to the sandbox: {self.requests}; faults injected: {kinds}",
            f"workers started: {self.workers_started}, killed with SIGKILL: {self.workers_killed}",
            f"reconcile decisions: {rec}",
            f"duplicates: {self.duplicates}, lost: {self.lost}, unknown: {unknown}",
            f"unknown not listed by audit: {self.audit_missing}; "
            f"integrity problems: {len(self.integrity)}; worker tracebacks: "
            f"{self.worker_tracebacks}; scheduled posts (none before its time): {self.scheduled}",
            "invariants: OK" if self.ok else "invariants VIOLATED: " + "; ".join(self.problems),
        ]


class AheadClock:
    """The wall clock plus `ahead` seconds: every lease has expired, every post has settled."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.ahead)

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Soak:
    """Set up with a database URL and a work folder; `run(seconds)` returns the Figures."""

    def __init__(
        self,
        database_url: str,
        folder: Path,
        *,
        backend: str,
        workers: int = 3,
        seed: int = 0,
        article_every: float = 0.5,
        kill_every: float = 3.0,
        log: Any = print,
    ) -> None:
        self.url, self.folder, self.backend = database_url, folder, backend
        self.n_workers, self.seed = workers, seed
        self.article_every, self.kill_every = article_every, kill_every
        self.rng = random.Random(seed)
        self.log = log
        self.secrets = {
            "X_CONSUMER_KEY": "xck-chaos",
            "X_CONSUMER_SECRET": "xcs-chaos",
            "X_ACCESS_TOKEN": "1-xat-chaos",
            "X_ACCESS_TOKEN_SECRET": "xats-chaos",
            "FACEBOOK_PAGE_TOKEN": "EAAchaos",
            "MASTODON_ACCESS_TOKEN": "mastodon-chaos",
            "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
            "TELEGRAM_BOT_TOKEN": "123456789:AAF-chaos-token-0123456789abcdefgh",
            "LINKEDIN_ACCESS_TOKEN": "AQV-chaos",
            "THREADS_ACCESS_TOKEN": "THQ-chaos",
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = self.killed = self.articles = 0
        self.decisions: Counter[str] = Counter()
        self.due: dict[str, float] = {}  # article number -> not before (epoch s)
        self._stop = threading.Event()

    # -- setup ----------------------------------------------------------------------------
    def settings(self, box: Sandbox) -> Settings:
        path = self.folder / "distributor.toml"
        path.write_text(config_text(box.url) + DISPATCH, encoding="utf-8")
        return load_config(path, environ={**self.secrets, "DISTRIBUTOR_DATABASE_URL": self.url})

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DISTRIBUTOR_")}
        return {**env, **self.secrets, "DISTRIBUTOR_DATABASE_URL": self.url}

    def _spawn(self, settings: Settings, i: int) -> subprocess.Popen[bytes]:
        args = ["-c", str(settings.path), "worker", "--poll", "0.1", "--concurrency", "4"]
        out = (self.folder / f"worker-{self.started:03d}.log").open("wb")
        self.started += 1
        proc = subprocess.Popen(CLI + args, env=self._env(), stdout=out, stderr=out)
        out.close()
        return proc

    # -- the load -------------------------------------------------------------------------
    def _plan_stream(self, settings: Settings) -> None:
        from distributor.planning import publish
        from distributor.store import open_store

        store = open_store(self.url)
        try:
            while not self._stop.wait(self.article_every):
                n = self.articles
                article = Article(
                    # `&` in every posted link: lookups must match hrefs/entities, not text
                    url=f"https://news.example/chaos/chaos-{n:04d}?ressort=politik&seite={n}",
                    title=f"Meldung chaos-{n:04d}: Der Landtag beschließt Vorlage {n}",
                    teaser=f"Nach langer Debatte stimmte eine Mehrheit für Vorlage {n}.",
                    tags=("Landtag", "Politik"),
                    language="de",
                    **self._schedule(n),
                )
                report = publish(article, config=settings, store=store)
                if report.errors:
                    raise RuntimeError(f"planning failed: {report.errors}")
                self.articles += 1
        finally:
            store.close()

    def _schedule(self, n: int) -> dict[str, Any]:
        """Every third article is due a moment later (publish_at), every seventh is breaking
        news under a short embargo; the check asserts none was posted before its time."""
        now = datetime.now(UTC)
        if n % 7 == 3:
            until = now + timedelta(seconds=self.rng.uniform(0.5, 3.0))
            self.due[f"{n:04d}"] = until.timestamp()
            return {"embargo_until": until, "publish_at": now, "priority": "breaking"}
        if n % 3 == 1:
            at = now + timedelta(seconds=self.rng.uniform(0.5, 3.0))
            self.due[f"{n:04d}"] = at.timestamp()
            return {"publish_at": at}
        return {}

    def _supervise(self, settings: Settings, box: Sandbox) -> None:
        """Kill a random worker now and then (SIGKILL), restart it; inject bursts and hangs."""
        next_kill = time.monotonic() + self.kill_every
        while not self._stop.wait(0.2):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None:  # died by itself: note it, restart it
                    self.procs[i] = self._spawn(settings, i)
            if time.monotonic() >= next_kill:
                i = self.rng.randrange(len(self.procs))
                self.procs[i].send_signal(signal.SIGKILL)
                self.procs[i].wait()
                self.killed += 1
                self.procs[i] = self._spawn(settings, i)
                next_kill = time.monotonic() + self.rng.uniform(0.5, 1.5) * self.kill_every
                self._burst(box)

    def _burst(self, box: Sandbox) -> None:
        platform = self.rng.choice(SHORT_RESETS)
        box.faults.add(platform=platform, kind="rate_limit", seconds=1, count=3)
        # One of each failure kind on a random platform after every kill, on top of the random
        # rates: a short soak on a slow machine sends few requests, and every kind must fire.
        for rule in ({"kind": "reset"}, {"kind": "lost", "mode": "reset"}, {"kind": "error"}):
            box.faults.add(platform=self.rng.choice(list(CHANNELS)), count=1, **rule)
        if self.rng.random() < 0.15:  # a hang longer than the adapters' 10 s read timeout
            platform = self.rng.choice(list(CHANNELS))
            route = "publish" if platform == "threads" else "create"
            box.faults.add(platform=platform, route=route, kind="hang", seconds=11, count=1)

    def _reconcile_now(self, settings: Settings, ahead: float = 0.0) -> None:
        from distributor.reconcile import reconcile
        from distributor.store import open_store

        store = open_store(self.url)
        try:
            report = reconcile(settings, store, clock=AheadClock(ahead), actor="chaos")
            self.decisions.update(report.counts)
        finally:
            store.close()

    # -- the run --------------------------------------------------------------------------
    def run(self, seconds: float) -> Figures:
        import logging

        from distributor.redact import RedactingFilter

        # reconcile's "needs a human" warnings go to a file, not between the figures
        handler = logging.FileHandler(self.folder / "runner.log", encoding="utf-8")
        handler.addFilter(RedactingFilter())
        logging.getLogger("distributor").addHandler(handler)
        try:
            return self._run(seconds)
        finally:
            logging.getLogger("distributor").removeHandler(handler)
            handler.close()

    def _run(self, seconds: float) -> Figures:
        with Sandbox(port=0, seed=self.seed) as box:
            settings = self.settings(box)
            from distributor.store import open_store

            open_store(self.url).close()  # migrate once, before the workers race to
            _lift_platform_limits(box)
            for rule in fault_rules(self.rng):
                box.faults.add(**rule)
            self.procs = [self._spawn(settings, i) for i in range(self.n_workers)]
            threads = [
                threading.Thread(target=self._plan_stream, args=(settings,), daemon=True),
                threading.Thread(target=self._supervise, args=(settings, box), daemon=True),
            ]
            started = time.monotonic()
            for t in threads:
                t.start()
            try:
                while time.monotonic() - started < seconds:
                    time.sleep(min(5.0, max(0.1, seconds - (time.monotonic() - started))))
                    self._reconcile_now(settings)  # the periodic reconcile an operator runs
                    self.log(
                        f"  {time.monotonic() - started:5.0f} s: {self.articles} articles, "
                        f"{self.killed} workers killed"
                    )
            finally:
                self._stop.set()
                for t in threads:
                    t.join(timeout=30)
                faults = Counter(str(r["fault"]) for r in box.requests() if r.get("fault"))
                requests = len(box.requests())
                box.faults.clear()
                self._stop_workers()
            load_seconds = time.monotonic() - started
            self._settle(settings)
            figures = self.check(settings, box)
        figures.seconds, figures.faults, figures.requests = load_seconds, dict(faults), requests
        return figures

    def _stop_workers(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _settle(self, settings: Settings) -> None:
        """No faults any more: reconcile (a lease and the settle time ahead) and dispatch until
        every delivery is final or held for a person."""
        from distributor.dispatch import Dispatcher
        from distributor.reconcile import SETTLE
        from distributor.store import open_store

        store = open_store(self.url)
        try:
            deadline = time.monotonic() + 120 + 0.1 * len(store.audit())

            def settled() -> bool:
                if time.monotonic() > deadline:
                    return True
                return not [d for d in store.audit() if d.state is not State.UNKNOWN]

            before: list[int] | None = None
            while time.monotonic() < deadline:
                self._reconcile_now(settings, ahead=LEASE + SETTLE + 1)
                Dispatcher(settings, store, concurrency=8).run(until=settled, poll=0.1)
                pending = [d.id for d in store.audit() if d.platform != "telegram"]
                if not pending or pending == before:  # done, or no progress any more
                    break
                before = pending
        finally:
            store.close()

    # -- the invariants -------------------------------------------------------------------
    def check(self, settings: Settings, box: Sandbox) -> Figures:
        from chaos.checks import check

        return check(self, settings, box)
