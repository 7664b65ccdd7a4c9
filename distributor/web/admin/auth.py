"""Who is asking: password and token checks, signed session cookies, CSRF tokens, login limits.

Sessions are itsdangerous-signed cookies (HttpOnly, SameSite=Lax, expiring, `Secure` unless the
browser talks plain http to a loopback host) carrying the user name, a per-session CSRF token
and a random session id. The id's row in the store (`store/admin_sessions.py`) makes a session
revocable (logout ends it everywhere) and binds it to the credential that signed in: a changed
password hash or token, or a removed account, ends it. Every POST must echo the CSRF token.
A bearer token (`Authorization: Bearer`) also authenticates; such requests need no CSRF token
because browsers never add that header on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from distributor.web.admin.options import AdminOptions

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from distributor.store.store import Store

SESSION_COOKIE = "distributor_admin"
LOGIN_COOKIE = "distributor_login"  # double-submit CSRF token for the login form
TOKEN_ACTOR = "token"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    bearer: bool = False  # came with an Authorization header: CSRF does not apply
    sid: str = ""  # the cookie's session id (its SHA-256 keys the store's row)


class Auth:
    """Checks credentials and reads/writes the session cookie for one admin app."""

    def __init__(self, options: AdminOptions, store: Store) -> None:
        from argon2 import PasswordHasher
        from itsdangerous import URLSafeTimedSerializer

        assert options.session_secret is not None  # mount() only builds Auth when enabled
        self.options = options
        self.store = store
        self._hasher = PasswordHasher()
        # Verified against for unknown users too, so timing does not reveal who exists.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        secret = options.session_secret.reveal()
        self._sessions = URLSafeTimedSerializer(secret, salt="distributor-admin-session")
        self._logins = URLSafeTimedSerializer(secret, salt="distributor-admin-login")

    # -- credentials ------------------------------------------------------------------------
    def check_password(self, user: str, password: str) -> bool:
        from argon2.exceptions import Argon2Error, InvalidHashError

        hashed = self.options.users.get(user)
        try:
            return bool(self._hasher.verify(hashed or self._dummy, password)) and bool(hashed)
        except (Argon2Error, InvalidHashError):
            return False

    def check_token(self, token: str) -> bool:
        want = self.options.token
        return want is not None and hmac.compare_digest(token.encode(), want.reveal().encode())

    # -- sessions ---------------------------------------------------------------------------
    def session(self, request: Request) -> Session | None:
        """The signed-in person, from the bearer header or the session cookie (None: nobody)."""
        from itsdangerous import BadSignature

        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            ok = self.check_token(header[7:].strip())
            return Session(TOKEN_ACTOR, "", bearer=True) if ok else None
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._sessions.loads(raw, max_age=self.options.session_seconds)
        except BadSignature:  # also SignatureExpired
            return None
        user, csrf, sid = data.get("u"), data.get("c"), data.get("s")
        if not all(isinstance(v, str) for v in (user, csrf, sid)):
            return None
        row = self.store.admin_session(_key(sid))
        if row is None or row.user != user:
            return None  # logged out, or never recorded
        if not hmac.compare_digest(row.credential, self.fingerprint(user) or "-"):
            return None  # the password, the token or the account changed since the login
        return Session(user, csrf, sid=sid)

    def start(self, request: Request, response: Response, user: str) -> None:
        sid = secrets.token_urlsafe(32)
        credential = self.fingerprint(user)
        assert credential is not None  # only called right after the credential was checked
        self.store.open_admin_session(_key(sid), user, credential, self.options.session_seconds)
        value = self._sessions.dumps({"u": user, "c": secrets.token_urlsafe(32), "s": sid})
        self._cookie(request, response, SESSION_COOKIE, value, self.options.session_seconds)
        response.delete_cookie(LOGIN_COOKIE, path=_path(request))

    def end(self, request: Request, response: Response, session: Session) -> None:
        if session.sid:
            self.store.revoke_admin_session(_key(session.sid))
        response.delete_cookie(SESSION_COOKIE, path=_path(request))

    def fingerprint(self, user: str) -> str | None:
        """A keyed digest of the credential `user` signs in with now (None: it has none).
        Kept with each sign-in: a new password hash or token no longer matches it."""
        if user == TOKEN_ACTOR:
            credential = self.options.token.reveal() if self.options.token else None
        else:
            credential = self.options.users.get(user)
        if credential is None:
            return None
        key = self.options.session_secret.reveal().encode()  # type: ignore[union-attr]
        return hmac.new(key, credential.encode(), "sha256").hexdigest()[:32]

    # -- CSRF -------------------------------------------------------------------------------
    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        if session.bearer:
            return True
        return bool(sent) and hmac.compare_digest(str(sent).encode(), session.csrf.encode())

    def login_cookie(self, request: Request, response: Response, token: str) -> None:
        """Pair the login form's `token` with a signed cookie (double submit)."""
        self._cookie(request, response, LOGIN_COOKIE, self._logins.dumps(token), 3600)

    def login_csrf_ok(self, request: Request, sent: str | None) -> bool:
        from itsdangerous import BadSignature

        try:
            want = self._logins.loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=3600)
        except BadSignature:
            return False
        return bool(sent) and hmac.compare_digest(str(sent).encode(), str(want).encode())

    def _cookie(
        self, request: Request, response: Response, name: str, value: str, age: int
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=age,
            path=_path(request),
            secure=self.secure(request),
            httponly=True,
            samesite="lax",
        )

    def secure(self, request: Request) -> bool:
        mode = self.options.secure_cookies
        if mode != "auto":
            return mode == "always"
        plain_loopback = request.url.scheme == "http" and request.url.hostname in _LOOPBACK
        return not plain_loopback


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _path(request: Request) -> str:
    """Cookies are scoped to the admin app's mount point (e.g. /admin)."""
    return str(request.scope.get("root_path") or "") or "/"
