"""Who is asking: password and token checks, signed session cookies, CSRF tokens, login limits.

Sessions are itsdangerous-signed cookies (HttpOnly, SameSite=Lax, expiring, `Secure` unless the
browser talks plain http to a loopback host) carrying the user name and a per-session CSRF
token; every POST must echo that token in its form. A bearer token (`Authorization: Bearer`)
also authenticates; such requests need no CSRF token because browsers never add that header
on their own.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from distributor.web.admin.options import AdminOptions

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

SESSION_COOKIE = "distributor_admin"
LOGIN_COOKIE = "distributor_login"  # double-submit CSRF token for the login form
TOKEN_ACTOR = "token"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    bearer: bool = False  # came with an Authorization header: CSRF does not apply


class Auth:
    """Checks credentials and reads/writes the session cookie for one admin app."""

    def __init__(self, options: AdminOptions) -> None:
        from argon2 import PasswordHasher
        from itsdangerous import URLSafeTimedSerializer

        assert options.session_secret is not None  # mount() only builds Auth when enabled
        self.options = options
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
        user, csrf = data.get("u"), data.get("c")
        if not isinstance(user, str) or not isinstance(csrf, str):
            return None
        if user != TOKEN_ACTOR and user not in self.options.users:
            return None  # the account was removed since the login
        return Session(user, csrf)

    def start(self, request: Request, response: Response, user: str) -> None:
        value = self._sessions.dumps({"u": user, "c": secrets.token_urlsafe(32)})
        self._cookie(request, response, SESSION_COOKIE, value, self.options.session_seconds)
        response.delete_cookie(LOGIN_COOKIE, path=_path(request))

    def end(self, request: Request, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=_path(request))

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


def _path(request: Request) -> str:
    """Cookies are scoped to the admin app's mount point (e.g. /admin)."""
    return str(request.scope.get("root_path") or "") or "/"
