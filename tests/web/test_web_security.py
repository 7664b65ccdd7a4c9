"""Issue 13 (web side): every answer carries the security headers, error pages included; no
third-party script on the server's origin; a tampered page cursor is a 400, not a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import TOKEN, app_over_sqlite, login, serve

REQUIRED = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with app_over_sqlite(tmp_path) as (app, store):

        @app.get("/boom-for-test")
        def boom() -> None:
            raise RuntimeError("secret detail /etc/passwd")

        with serve(app) as base:
            http = requests.Session()
            login(http, base)
            yield {"base": base, "store": store, "http": http}


def assert_secured(r: requests.Response) -> None:
    for name in REQUIRED:
        assert name in r.headers, f"{r.request.url} {r.status_code}: no {name}"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("page", "cursor"),
    [
        ("deliveries", "1.0:9223372036854775808"),
        ("deliveries", "1e999:1"),
        ("deliveries", "x:y"),
        ("", "1e999:abc"),
        ("", "1.0:a'b"),
    ],
)
def test_tampered_cursor_is_400_with_headers(site: dict[str, Any], page: str, cursor: str) -> None:
    r = site["http"].get(f"{site['base']}/admin/{page}", params={"after": cursor})
    assert r.status_code == 400
    assert "cursor" in r.text
    assert_secured(r)


def test_error_pages_carry_the_security_headers(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, http = site["base"], site["http"]
    for path in ("/admin/no-such-page", "/no-such-page", "/admin/deliveries/99999"):
        r = http.get(base + path)
        assert r.status_code == 404, path
        assert_secured(r)
    r = http.get(base + "/boom-for-test")
    assert r.status_code == 500
    assert_secured(r)
    assert "secret detail" not in r.text and "Traceback" not in r.text

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(site["store"], "query", broken)
    r = http.get(base + "/admin/deliveries")
    assert r.status_code == 500
    assert_secured(r)
    assert "exploded" not in r.text and "Traceback" not in r.text
    r = requests.get(base + "/healthz")  # ordinary answers of the main app, too
    assert r.status_code == 200
    assert_secured(r)


def test_no_docs_ui_and_no_third_party_script(site: dict[str, Any]) -> None:
    """Finding 15: /docs loaded an unpinned swagger-ui from a CDN on the admin origin."""
    base = site["base"]
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect", "/admin/docs"):
        r = requests.get(base + path)
        assert r.status_code == 404, path
        assert "cdn.jsdelivr" not in r.text and "<script" not in r.text
        assert_secured(r)
    for path in ("/admin/", "/admin/login", "/healthz"):
        r = site["http"].get(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert "<script" not in r.text and "https://" not in r.headers["Content-Security-Policy"]
