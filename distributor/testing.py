"""In-process fakes for unit tests: `FakeClock` and `FakeAdapter`.

These complement, never replace, the end-to-end tests that run the real client libraries
against the local platform sandbox (`distributor.sandbox`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from distributor.errors import PublishError
from distributor.platform import Limits, PlatformSpec
from distributor.post import AccountInfo, Draft, Receipt

# A platform that exists only in memory (reconcile's policy: LOOKUP, like most platforms).
FAKE_SPEC = PlatformSpec(
    "fake",
    adapter="distributor.testing:FakeAdapter",
    limits=Limits(500),
    counter="distributor.limits:graphemes",
    base_url="https://fake.example",
)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._mono = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


@dataclass
class FakeAdapter:
    """An adapter that keeps posts in memory; `fail_with` raises the given errors in turn."""

    spec: ClassVar[PlatformSpec] = FAKE_SPEC

    posts: dict[str, Receipt] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    fail_with: list[PublishError | Callable[[], PublishError]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        self.calls.append(key)
        if self.fail_with:
            failure = self.fail_with.pop(0)
            raise failure() if callable(failure) else failure
        if key in self.posts:  # behaves like a platform honouring idempotency keys
            return self.posts[key]
        receipt = Receipt(draft.platform, str(next(self._ids)), f"https://fake.example/{key}")
        self.posts[key] = receipt
        self.texts[key] = draft.text
        return receipt

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        return self.posts.get(key)

    def delete(self, receipt: Receipt) -> None:
        for key, held in list(self.posts.items()):
            if held.remote_id == receipt.remote_id:
                del self.posts[key]

    def verify(self) -> AccountInfo:
        return AccountInfo("fake", "1", "Fake account")
