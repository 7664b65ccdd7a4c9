"""The sandbox's shared state: posts per platform, emulator key-value state, the request log.

Every emulator gets the same `SandboxState`; all methods are thread-safe (one re-entrant lock,
which emulators also take for multi-step updates such as idempotency keys).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict, deque
from typing import Any

from distributor.sandbox.emulator import Post

REQUEST_LOG_SIZE = 20_000


class SandboxState:
    """Posts, per-platform emulator state and the request log; safe to use from any thread."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._posts: dict[str, dict[str, Post]] = defaultdict(dict)
        self._ids: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self.kv: dict[str, dict[str, Any]] = defaultdict(dict)
        self.log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)

    def now(self) -> float:
        return time.time()

    def next_id(self, platform: str) -> int:
        """A number unique per platform (emulators format it into their id shape)."""
        with self.lock:
            return next(self._ids[platform])

    def record(
        self, platform: str, account: str, text: str, data: dict[str, Any], post_id: str = ""
    ) -> Post:
        """Store a new post; its id is `post_id` or the next number for the platform."""
        with self.lock:
            pid = post_id or str(next(self._ids[platform]))
            post = Post(platform, pid, account, text, dict(data), self.now())
            self._posts[platform][pid] = post
            return post

    def posts(self, platform: str, include_deleted: bool = False) -> list[Post]:
        with self.lock:
            return [p for p in self._posts[platform].values() if include_deleted or not p.deleted]

    def find(self, platform: str, post_id: str) -> Post | None:
        with self.lock:
            return self._posts[platform].get(post_id)

    def delete(self, platform: str, post_id: str) -> bool:
        with self.lock:
            post = self._posts[platform].get(post_id)
            if post is None or post.deleted:
                return False
            post.deleted = True
            return True

    def clear(self) -> None:
        with self.lock:
            self._posts.clear()
            self._ids.clear()
            self.kv.clear()
            self.log.clear()
