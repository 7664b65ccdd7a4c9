"""Admin UI sign-ins kept in the store (migration 8), so they can be ended server-side.

The session cookie is signed, but a signature alone cannot be taken back: a stolen or logged-out
cookie would work until it expires. Each sign-in therefore has a row here, keyed by the SHA-256
of the random session id the cookie carries (the table alone never lets anybody sign in), with
a fingerprint of the credential used (see `web/admin/auth.py`). Logging out revokes the row;
every process (`serve --workers N`, several machines) sees that at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AdminSession:
    user: str
    credential: str  # fingerprint of the password hash or token that signed in
    expires_at: float


class AdminSessionsMixin:
    _engine: Any
    _reader: Any
    _t: Any
    _clock: Any

    def open_admin_session(self, key: str, user: str, credential: str, seconds: float) -> None:
        """Record a sign-in (and forget sign-ins that ended a day ago or more)."""
        t, now = self._t["admin_sessions"], self._clock.now().timestamp()
        with self._engine.begin() as conn:
            conn.execute(t.delete().where(t.c.expires_at < now - 86400))
            conn.execute(
                t.insert().values(
                    key=key,
                    actor=user,
                    credential=credential,
                    created_at=now,
                    expires_at=now + seconds,
                    revoked_at=None,
                )
            )

    def admin_session(self, key: str) -> AdminSession | None:
        """The sign-in under `key` while it lasts (None: unknown, logged out or expired)."""
        t, now = self._t["admin_sessions"], self._clock.now().timestamp()
        with self._reader.connect() as conn:
            row = conn.execute(t.select().where(t.c.key == key)).first()
        if row is None or row.revoked_at is not None or row.expires_at < now:
            return None
        return AdminSession(row.actor, row.credential, row.expires_at)

    def revoke_admin_session(self, key: str) -> bool:
        """End one sign-in; False if there was no such open sign-in."""
        t, now = self._t["admin_sessions"], self._clock.now().timestamp()
        with self._engine.begin() as conn:
            done = conn.execute(
                t.update().where(t.c.key == key, t.c.revoked_at.is_(None)).values(revoked_at=now)
            )
        return bool(done.rowcount)
