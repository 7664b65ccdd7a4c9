"""The Dispatcher: claims due deliveries and sends them, different accounts in parallel.

The store decides what may run: `claim` gives at most one delivery per account (its oldest due
one), none while paused, none for blocked or re-auth accounts. The dispatcher keeps up to
`concurrency` sends in flight on a thread pool and claims again whenever a slot is free.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from distributor.clock import SYSTEM, Clock
from distributor.dispatch.send import Context, deliver
from distributor.errors import StoreFull
from distributor.store.models import FINAL, Claimed, Delivery, State

if TYPE_CHECKING:
    from distributor.config import Channel, Policy, Settings
    from distributor.platforms.base import Adapter
    from distributor.store.store import Store

log = logging.getLogger("distributor.dispatch")
HEARTBEAT_EVERY = 10.0
# Threads of a worker that use its store besides its sends: the claim loop (claims, heartbeats),
# its chores (reconcile, alert checks) and the lease keeper (dispatch/send.py).
OWN_THREADS = 3
DEFAULT_CONCURRENCY = 4
# A `publish --wait` is done with a delivery once it is here: final, or waiting for a person.
SETTLED = FINAL | {State.UNKNOWN, State.AWAITING_REVIEW}


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def store_threads(concurrency: int) -> int:
    """How many threads of a Dispatcher with `concurrency` sends use its store at once, at most:
    the connections its store's pool keeps (`open_store(pool=...)`)."""
    return concurrency + OWN_THREADS


class Dispatcher:
    """Claim, send, record. `run_once()` for one round, `run(stop)` for a worker loop."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        adapter_for: Callable[[Channel], Adapter] | None = None,
        clock: Clock = SYSTEM,
        worker_id: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: Policy | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings, self.store, self.clock = settings, store, clock
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency
        self.policy = policy or settings.dispatch
        # not `or self._build_adapter`: a bound method of itself would make every finished
        # Dispatcher a reference cycle, keeping its adapters' sessions open until a GC pass
        self._adapter_for = adapter_for
        self._adapters: dict[str, tuple[Channel, Adapter]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_beat: float | None = None
        self._tasks: list[_Periodic] = []
        self._chores: threading.Thread | None = None  # the periodic tasks running now
        self._deadline: float | None = None  # `wait_for(timeout=)`: no retrying past it

    # -- adapters ---------------------------------------------------------------------------
    def _build_adapter(self, channel: Channel) -> Adapter:
        from distributor.platforms.registry import build_adapter

        return build_adapter(channel, self.settings)

    def adapter(self, channel_name: str) -> tuple[Channel, Adapter]:
        """The channel and its adapter, built once per channel (thread-safe)."""
        with self._lock:
            if channel_name not in self._adapters:
                channel = self.settings.channel(channel_name)
                build = self._adapter_for or self._build_adapter
                self._adapters[channel_name] = (channel, build(channel))
            return self._adapters[channel_name]

    # -- one round ---------------------------------------------------------------------------
    def _ctx(self) -> Context:
        policy = self.policy
        if self._deadline is not None:  # a send's retries and pacing end by the deadline
            left = max(0.0, self._deadline - self.clock.monotonic())
            policy = replace(
                policy, budget=min(policy.budget, left), pace_limit=min(policy.pace_limit, left)
            )
        return Context(
            self.store, self.clock, self.worker_id, policy, self._stop, self.settings.timezone
        )

    def claim(self, limit: int) -> list[Claimed]:
        return self.store.claim(self.worker_id, lease_seconds=self.policy.lease, limit=limit)

    def deliver(self, claimed: Claimed) -> Delivery | None:
        return deliver(self._ctx(), claimed, self.adapter)

    def run_once(self) -> list[Delivery | None]:
        """Claim up to `concurrency` deliveries (one per account) and send them in parallel;
        returns what each became (None: went back unsent). Empty: nothing due (or paused)."""
        claimed = self.claim(self.concurrency)
        if len(claimed) <= 1:
            return [self.deliver(c) for c in claimed]
        with ThreadPoolExecutor(len(claimed), thread_name_prefix="send") as pool:
            return list(pool.map(self.deliver, claimed))

    # -- the loop ----------------------------------------------------------------------------
    def every(
        self, seconds: float, name: str, fn: Callable[[], object], *, now: bool = True
    ) -> None:
        """Run `fn` every `seconds` (with `now`, first on the loop's first round); an error in
        it is logged and the loop goes on (reconcile, alert checks). The claim loop starts the
        round's due chores on a thread of their own (one round at a time) and goes on
        claiming: an alert target that is slow to answer, or a check over a long queue (0.2 s
        at 100,000 queued), no longer holds up every send. `run` waits for them at its end."""
        if seconds > 0:
            last = None if now else self.clock.monotonic()
            self._tasks.append(_Periodic(seconds, name, fn, last))

    def _periodic(self) -> None:
        if self._chores is not None and self._chores.is_alive():
            return  # the last round's chores still run: they are due again when they end
        now = self.clock.monotonic()
        due = [t for t in self._tasks if t.last is None or now - t.last >= t.seconds]
        for task in due:
            task.last = now
        if due:
            self._chores = threading.Thread(target=_run_chores, args=(due,), name="chores")
            self._chores.daemon = True
            self._chores.start()

    def _chores_done(self) -> None:
        if self._chores is not None:
            self._chores.join()
            self._chores = None

    def heartbeat(self) -> None:
        now = self.clock.monotonic()
        if self._last_beat is None or now - self._last_beat >= HEARTBEAT_EVERY:
            self.store.heartbeat(self.worker_id)
            self._last_beat = now

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        until_idle: bool = False,
        poll: float = 1.0,
        until: Callable[[], bool] | None = None,
    ) -> int:
        """Send until `stop` is set (or, with `until_idle`, until nothing is due; or until
        `until()` is true, checked every round). In-flight sends always finish. Returns the
        number of claims."""
        self._stop = stop or threading.Event()
        in_flight: set[Future[Delivery | None]] = set()
        claims, paused_said = 0, False
        waiter = self.store.waiter()  # wakes the idle loop when work is committed
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="send") as pool:
            try:
                while not self._stop.is_set():
                    if until is not None and until():
                        break
                    self.heartbeat()
                    self._periodic()
                    got = (
                        self.claim(self.concurrency - len(in_flight))
                        if len(in_flight) < self.concurrency
                        else []
                    )
                    claims += len(got)
                    in_flight |= {pool.submit(self.deliver, c) for c in got}
                    if not got and not in_flight:
                        if until_idle and until is None:
                            break
                        paused_said = self._say_paused(paused_said)
                        waiter.wait(poll, self._stop)
                        continue
                    if in_flight:
                        done, in_flight = wait(in_flight, timeout=poll, return_when=FIRST_COMPLETED)
                        for f in done:
                            _outcome(f)
            finally:
                for f in in_flight:  # stopping: let in-flight sends finish and record
                    _outcome(f)
                waiter.close()
                self._chores_done()
        return claims

    def _say_paused(self, said: bool) -> bool:
        paused = self.store.paused()
        if paused and not said:
            log.warning("dispatch is paused (distributor resume to continue)")
        return paused

    def wait_for(
        self,
        ids: Iterable[int],
        *,
        timeout: float | None = None,
        poll: float = 0.2,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[Delivery]:
        """Dispatch in this process until every delivery in `ids` is final, unknown or waiting
        for review, or `timeout` seconds passed (no send retries past it: a delivery not sent
        by then stays queued for a worker); returns them as they are then. `on_progress(done,
        total)` hears how many are settled, every round."""
        ids = list(ids)
        deadline = None if timeout is None else self.clock.monotonic() + timeout

        def settled() -> bool:
            if deadline is not None and self.clock.monotonic() >= deadline:
                return True
            done = sum(1 for i in ids if self.store.get(i).state in SETTLED)
            if on_progress is not None:
                on_progress(done, len(ids))
            return done == len(ids)

        self._deadline = deadline
        try:
            if ids and not settled():
                self.run(until=settled, poll=poll)
        finally:
            self._deadline = None
            if ids:
                self.stopped()
        return [self.store.get(i) for i in ids]

    def stopped(self) -> None:
        """Record a clean stop of this worker (if it ever beat): `status` then shows it
        stopped, not SILENT, and no "stopped heart-beating" incident opens for it."""
        if self._last_beat is not None:
            self.store.worker_stopped(self.worker_id)


@dataclass
class _Periodic:
    seconds: float
    name: str
    fn: Callable[[], object]
    last: float | None = None


def _run_chores(tasks: list[_Periodic]) -> None:
    for task in tasks:
        try:
            task.fn()
        except Exception:
            log.exception("periodic %s failed; trying again in %.0fs", task.name, task.seconds)


def _outcome(f: Future[Delivery | None]) -> None:
    """A send that broke (the store went away mid-send) is logged, not fatal: its lease runs
    out and reconcile resolves the delivery. A broken claim, in contrast, stops the worker."""
    try:
        f.result()
    except StoreFull:
        raise  # the worker stops: every further send would go unrecorded as well
    except Exception:
        log.exception("a send failed before its outcome was recorded; reconcile will resolve it")
