"""Platform login sessions shared by every process (migration 7): one row per account and host.

A Bluesky session (access and refresh token) is kept here so that each CLI process, worker and
web worker reuses it instead of logging in again: `createSession` is limited to 30 per 5 minutes
per account. The tokens are bearer secrets: nothing prints this table (not `show`, `log`, the
admin UI or /metrics), and the adapter registers them for redaction when it reads them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from distributor.store import rows


class SessionsMixin:
    _engine: Any
    _reader: Any
    _t: Any

    def _now(self, now: datetime | None) -> float:
        raise NotImplementedError

    def load_session(self, key: str) -> dict[str, str] | None:
        """The session saved under `key`, or None."""
        t = self._t["sessions"]
        with self._reader.connect() as conn:
            row = conn.execute(t.select().where(t.c.key == key)).first()
        if row is None:
            return None
        try:
            data = json.loads(row.data)
        except ValueError:
            return None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None

    def save_session(self, key: str, data: dict[str, str], *, now: datetime | None = None) -> None:
        """Keep `data` as the session under `key` (replacing an older one)."""
        t = self._t["sessions"]
        text, ts = json.dumps(data), self._now(now)
        with self._engine.begin() as conn:
            conn.execute(rows.insert_ignore(conn, t).values(key=key, data=text, updated_at=ts))
            conn.execute(t.update().where(t.c.key == key).values(data=text, updated_at=ts))

    def drop_session(self, key: str) -> None:
        """Forget the session under `key` (its tokens were refused)."""
        t = self._t["sessions"]
        with self._engine.begin() as conn:
            conn.execute(t.delete().where(t.c.key == key))
