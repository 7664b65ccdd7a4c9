"""Sign-in limits: failed logins per (user, address), per address and overall in a sliding
window, and how many password hashes may run at once.

argon2 is slow and memory-hard on purpose (64 MiB, ~0.1 s per check), which makes the login
form a lever: unknown user names are checked against a dummy hash (so timing does not reveal
who exists), and a limit per user name alone never stopped a client that invents a fresh name
for every try. Hence three windows and a cap on concurrent hashes (the rest get 429 at once,
so neither CPU, memory nor the server's thread pool can be exhausted through this form).
Counts are per process (`serve --workers N` multiplies them by N).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

PER_USER = 5  # failures per (user name, address)
PER_ADDRESS = 20  # failures per address, whatever the user names
OVERALL = 200  # failures from everywhere together
WINDOW = 60.0
HASHING = 2  # password checks running at once


class LoginLimiter:
    """Failed sign-ins in the last `window` seconds, counted three ways."""

    def __init__(
        self,
        limit: int = PER_USER,
        window: float = WINDOW,
        clock: Any = time.monotonic,
        *,
        per_address: int = PER_ADDRESS,
        overall: int = OVERALL,
        hashing: int = HASHING,
    ) -> None:
        self.window, self._clock = window, clock
        self._limits = {"user": limit, "addr": per_address, "all": overall}
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(hashing)

    @staticmethod
    def _keys(user: str, addr: str) -> dict[str, tuple[str, ...]]:
        return {"user": ("user", user.lower(), addr), "addr": ("addr", addr), "all": ("all",)}

    def _recent(self, key: tuple[str, ...]) -> deque[float]:
        now = self._clock()
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def retry_after(self, user: str, addr: str) -> int:
        """Seconds until this user name may be tried from this address again (0: now)."""
        wait = 0.0
        with self._lock:
            for kind, key in self._keys(user, addr).items():
                q = self._recent(key)
                if len(q) >= self._limits[kind]:
                    oldest = q[len(q) - self._limits[kind]]
                    wait = max(wait, self.window - (self._clock() - oldest))
        return max(1, int(wait) + 1) if wait > 0 else 0

    def failed(self, user: str, addr: str) -> None:
        with self._lock:
            for kind, key in self._keys(user, addr).items():
                q = self._recent(key)
                q.append(self._clock())
                while len(q) > self._limits[kind]:  # older ones no longer decide anything
                    q.popleft()
            if len(self._failures) > 10_000:  # forget idle keys; bounded memory under attack
                for key in [k for k, v in self._failures.items() if not v][:5000]:
                    del self._failures[key]

    def succeeded(self, user: str, addr: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(user, addr)["user"], None)

    def start_hashing(self) -> bool:
        """Take one of the password-check slots (False: all busy, answer 429)."""
        return self._hashing.acquire(blocking=False)

    def done_hashing(self) -> None:
        self._hashing.release()
