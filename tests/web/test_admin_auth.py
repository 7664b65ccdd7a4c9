"""Admin UI access control against real uvicorn: login, sessions, CSRF, rate limit, headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import TOKEN, admin_settings, build_app, csrf_of, login, seed, serve
from review_helpers import closed_port, run

from distributor.errors import ConfigError
from distributor.store import open_store
from distributor.store.models import State
from distributor.web.admin.options import admin_options

URL = "https://news.example/politik/rat-beschliesst"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = admin_settings(tmp_path, f"http://127.0.0.1:{closed_port()}", db)
    store = open_store(db)
    ids = seed(settings, store, "Rat beschließt Haushalt", URL)
    with serve(build_app(settings, store)) as base:
        yield {"base": base, "store": store, "ids": ids, "settings": settings}
    store.close()


def pages(site: dict[str, Any]) -> list[str]:
    ids, aid = site["ids"], site["store"].get(site["ids"]["sky"]).article_id
    return [
        "/admin/",
        "/admin/?state=queued",
        f"/admin/deliveries/{ids['sky']}",
        f"/admin/articles/{aid}",
        "/admin/preview",
    ]


def actions(site: dict[str, Any]) -> list[str]:
    ids, aid = site["ids"], site["store"].get(site["ids"]["sky"]).article_id
    return [
        f"/admin/deliveries/{ids['sky']}/approve",
        f"/admin/deliveries/{ids['masto']}/cancel",
        f"/admin/deliveries/{ids['masto']}/retry",
        f"/admin/articles/{aid}/retract",
        "/admin/pause",
        "/admin/resume",
        "/admin/preview",
        "/admin/logout",
    ]


def test_every_page_redirects_to_login_and_every_action_is_401(site: dict[str, Any]) -> None:
    base = site["base"]
    for path in pages(site):
        r = requests.get(base + path, allow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/admin/login?next=/admin/"), path
    for path in actions(site):
        r = requests.post(base + path, data={"csrf": "x", "confirm": "yes"}, allow_redirects=False)
        assert r.status_code == 401, path
    assert site["store"].get(site["ids"]["sky"]).state is State.AWAITING_REVIEW
    assert not site["store"].paused()


def test_login_then_pages_load_and_the_login_is_recorded(site: dict[str, Any]) -> None:
    http = requests.Session()
    r = login(http, site["base"])
    assert r.status_code == 303 and r.headers["location"] == "/admin/"
    for path in pages(site):
        assert http.get(site["base"] + path).status_code == 200, path
    assert any(
        e["actor"] == "alice" and e["action"] == "admin login" for e in site["store"].events()
    )


@pytest.mark.parametrize(
    "user,password",
    [
        ("alice", "wrong password!!"),
        ("bob", "anything at all"),
        ("mallory", "correct horse battery staple"),
    ],
)
def test_wrong_credentials_are_refused(site: dict[str, Any], user: str, password: str) -> None:
    http = requests.Session()
    r = login(http, site["base"], user, password)
    assert r.status_code == 401 and "Wrong user name" in r.text
    assert http.get(site["base"] + "/admin/", allow_redirects=False).status_code == 303


def test_session_cookie_flags(site: dict[str, Any]) -> None:
    http = requests.Session()
    raw = login(http, site["base"]).headers["set-cookie"]
    assert "distributor_admin=" in raw and "HttpOnly" in raw and "SameSite=lax" in raw
    assert "Max-Age=43200" in raw and "Path=/admin" in raw
    assert "Secure" not in raw  # plain http on loopback: a browser would drop a Secure cookie
    # The same server reached under a public name (behind a TLS proxy) sets Secure.
    page = http.get(site["base"] + "/admin/login", headers={"Host": "admin.news.example"})
    assert "Secure" in page.headers["set-cookie"]


def test_a_forged_or_foreign_session_cookie_is_not_a_login(site: dict[str, Any]) -> None:
    from itsdangerous import URLSafeTimedSerializer

    base = site["base"]
    forged = URLSafeTimedSerializer("x" * 48, salt="distributor-admin-session").dumps(
        {"u": "alice", "c": "t"}
    )
    for value in ("garbage", forged):
        r = requests.get(
            base + "/admin/", cookies={"distributor_admin": value}, allow_redirects=False
        )
        assert r.status_code == 303


def test_next_never_leaves_the_admin_app(site: dict[str, Any]) -> None:
    for target, lands in [
        ("//evil.example/x", "/admin/"),
        ("https://evil.example", "/admin/"),
        ("/admin/preview", "/admin/preview"),
    ]:
        http = requests.Session()
        page = http.get(site["base"] + "/admin/login")
        r = http.post(
            site["base"] + "/admin/login",
            allow_redirects=False,
            data={
                "csrf": csrf_of(page.text),
                "user": "alice",
                "password": "correct horse battery staple",
                "next": target,
            },
        )
        assert r.headers["location"] == lands


def test_post_without_or_with_wrong_csrf_is_refused(site: dict[str, Any]) -> None:
    http = requests.Session()
    login(http, site["base"])
    store, ids = site["store"], site["ids"]
    for path in actions(site):
        for data in ({}, {"csrf": "wrong"}, {"csrf": ""}):
            r = http.post(
                site["base"] + path,
                data={**data, "confirm": "yes", "source": URL},
                allow_redirects=False,
            )
            assert r.status_code == 403, (path, data)
    assert store.get(ids["sky"]).state is State.AWAITING_REVIEW
    assert store.get(ids["masto"]).state is State.QUEUED and not store.paused()
    # The token from the page works, and the actor is the signed-in user.
    csrf = csrf_of(http.get(site["base"] + "/admin/").text)
    assert http.post(site["base"] + "/admin/pause", data={"csrf": csrf}).status_code == 200
    assert store.paused()
    assert [e["actor"] for e in store.events() if e["action"] == "pause"] == ["alice"]


def test_login_form_needs_its_csrf_cookie(site: dict[str, Any]) -> None:
    r = requests.post(
        site["base"] + "/admin/login",
        allow_redirects=False,
        data={"csrf": "made-up", "user": "alice", "password": "correct horse battery staple"},
    )
    assert r.status_code == 403 and "distributor_admin=" not in r.headers.get("set-cookie", "")


def test_login_rate_limit_per_user_and_address(site: dict[str, Any]) -> None:
    http = requests.Session()
    codes = [
        login(http, site["base"], "alice", f"wrong-{i}-password").status_code for i in range(5)
    ]
    assert codes == [401] * 5
    blocked = login(http, site["base"])  # even the right password waits now
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= 61
    assert "Too many failed logins" in blocked.text
    assert http.get(site["base"] + "/admin/", allow_redirects=False).status_code == 303
    # Another account from the same address is not locked out by alice's failures.
    assert login(requests.Session(), site["base"], "bob", "x" * 12).status_code == 401


def test_bearer_token_guessing_is_limited_too(site: dict[str, Any]) -> None:
    wrong = {"Authorization": "Bearer " + "0" * 44}
    url = site["base"] + "/admin/"
    codes = [requests.get(url, headers=wrong, allow_redirects=False).status_code for _ in range(6)]
    assert codes == [303] * 5 + [429]
    right = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, allow_redirects=False)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_security_headers_on_every_kind_of_response(site: dict[str, Any]) -> None:
    http = requests.Session()
    responses = [http.get(site["base"] + "/admin/login")]
    login(http, site["base"])
    responses += [http.get(site["base"] + p) for p in pages(site)]
    responses.append(http.get(site["base"] + "/admin/static/admin.css"))
    responses.append(requests.post(site["base"] + "/admin/pause"))
    for r in responses:
        h = r.headers
        assert "script-src" not in h["Content-Security-Policy"]  # default-src 'none': no JS
        assert "default-src 'none'" in h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
    assert "<script" not in "".join(r.text for r in responses)


def test_token_login_and_bearer_requests(site: dict[str, Any]) -> None:
    base, store = site["base"], site["store"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.get(base + "/admin/", headers=auth).status_code == 200
    wrong = {"Authorization": "Bearer " + "0" * 44}
    assert requests.get(base + "/admin/", headers=wrong, allow_redirects=False).status_code == 303
    # A bearer request carries no cookie a browser could replay: no CSRF token needed.
    r = requests.post(base + f"/admin/deliveries/{site['ids']['masto']}/cancel", headers=auth)
    assert r.status_code == 200 and store.get(site["ids"]["masto"]).state is State.CANCELLED
    assert store.events(delivery_id=site["ids"]["masto"])[0]["actor"] == "token"
    http = requests.Session()
    page = http.get(base + "/admin/login")
    r = http.post(base + "/admin/login", data={"csrf": csrf_of(page.text), "token": TOKEN})
    assert r.status_code == 200 and "Sign out token" in r.text


def test_logout_ends_the_session(site: dict[str, Any]) -> None:
    http = requests.Session()
    login(http, site["base"])
    csrf = csrf_of(http.get(site["base"] + "/admin/").text)
    r = http.post(site["base"] + "/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status_code == 303 and 'distributor_admin=""' in r.headers["set-cookie"]
    http.cookies.clear()
    assert http.get(site["base"] + "/admin/", allow_redirects=False).status_code == 303


def test_admin_config_errors_are_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    plain = admin_settings(tmp_path, "builtin", db, ADMIN_ALICE_HASH="hunter2hunter2")
    with pytest.raises(
        ConfigError, match=r"users.alice.*ADMIN_ALICE_HASH must hold an argon2 hash"
    ):
        admin_options(plain)
    short = admin_settings(tmp_path, "builtin", db, DISTRIBUTOR_SESSION_SECRET="short")
    with pytest.raises(ConfigError, match="DISTRIBUTOR_SESSION_SECRET must be at least 32"):
        admin_options(short)
    toml = tmp_path / "distributor.toml"
    toml.write_text(toml.read_text().replace("[admin]", "[admin]\npasword = 1"))
    from distributor.config import load_config

    with pytest.raises(ConfigError, match=r"\[admin\] key 'pasword': unknown key \("):
        load_config(toml, environ={})


def test_without_anyone_who_can_sign_in_nothing_is_mounted(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from distributor.web.admin import mount

    nobody = {"ADMIN_ALICE_HASH": "", "ADMIN_TOKEN": ""}
    settings = admin_settings(tmp_path, "builtin", "sqlite://", **nobody)
    app = FastAPI()
    assert mount(app, settings, None) is False  # type: ignore[arg-type]
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/admin")]
    # Accounts but no session secret: a configuration error, not a silently missing UI.
    no_secret = admin_settings(tmp_path, "builtin", "sqlite://", DISTRIBUTOR_SESSION_SECRET="")
    with pytest.raises(ConfigError, match="set DISTRIBUTOR_SESSION_SECRET to sign admin sessions"):
        mount(FastAPI(), no_secret, None)  # type: ignore[arg-type]


def test_hash_password_prints_a_hash_that_verifies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from argon2 import PasswordHasher

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    code, out, _ = run(capsys, "admin", "hash-password", "--stdin")
    assert code == 0 and PasswordHasher().verify(out.strip(), "a long enough password")
    assert "a long enough password" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, err = run(capsys, "admin", "hash-password", "--stdin")
    assert (
        code != 0
        and out == ""
        and err.strip() == "error: the password must be at least 12 characters"
    )
