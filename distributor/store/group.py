"""Group commit: the send threads' writes to one SQLite store share transactions.

SQLite has one writer at a time, and most of a short write's cost is its commit: the WAL
frames of every page it touched (the delivery's table and index pages, the attempt's), about
130 µs of CPU, against 30 µs for the statement. With 50 send threads each committing its
`sending` and its outcome alone, the commits were most of the store's share of a delivery
(bench/fanout_bench.py).

So a write waits in line, and whoever finds no batch running leads the next one: it runs every
write waiting at that moment (up to `LIMIT`) in one transaction, commits once, and wakes their
threads. Leadership then passes to the first write that queued meanwhile. Nothing returns
before its commit: `sending` is still durable before the platform is called, and the outcome
before the send counts as done. A write that raises fails alone: the batch runs again with each
write in a savepoint of its own, and that one is rolled back to it (store/hot.py); if the batch
itself fails (its commit, a lost connection), every write in it runs again alone, so each
thread sees its own outcome.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from distributor.errors import StoreError

T = TypeVar("T")
Job = Callable[[Any], Any]  # runs in a transaction (store/hot.py's Tx), returns its result
LIMIT = 64  # writes per transaction: bounds how long the last one in a batch waits


class _Slot(Generic[T]):
    """One write in line: woken either done (result or error) or to lead the next batch."""

    __slots__ = ("done", "error", "job", "result", "woken")

    def __init__(self, job: Callable[[Any], T]) -> None:
        self.job = job
        self.woken = threading.Event()
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """The line of writes for one store. `batch(slots)` runs them (store/hot.py)."""

    def __init__(self, batch: Callable[[list[_Slot[Any]]], None]) -> None:
        self._batch = batch
        self._lock = threading.Lock()
        self._line: deque[_Slot[Any]] = deque()
        self._leading = False  # a batch is running (or its leader is being woken)
        self._inside = threading.local()

    def run(self, job: Callable[[Any], T]) -> T:
        """Run `job(tx)` in a transaction shared with the writes waiting beside it."""
        if getattr(self._inside, "yes", False):  # it would wait for its own batch forever
            raise StoreError("a store write was started inside another write's transaction")
        slot: _Slot[T] = _Slot(job)
        with self._lock:
            self._line.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.woken.wait()
        if not slot.done:  # this thread leads: its own write is first in line
            self._lead()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[no-any-return]

    def _lead(self) -> None:
        with self._lock:
            batch = [self._line.popleft() for _ in range(min(LIMIT, len(self._line)))]
        self._inside.yes = True
        try:
            self._batch(batch)
        except BaseException as exc:  # interrupted: no write of the batch is known to be kept
            for slot in batch:
                if not slot.done:
                    slot.error = StoreError(f"store write interrupted: {type(exc).__name__}")
            raise
        finally:
            self._inside.yes = False
            self._hand_over(batch)

    def _hand_over(self, batch: list[_Slot[Any]]) -> None:
        with self._lock:
            following = self._line[0] if self._line else None
            self._leading = following is not None
        for slot in batch:
            slot.done = True
            if slot is not batch[0]:  # the leader is awake already
                slot.woken.set()
        if following is not None:
            following.woken.set()  # not done: it leads the next batch
