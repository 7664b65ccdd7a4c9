"""Builders shared by the webhook, ops and `distributor hook` tests: a configuration with two
channels and webhook secrets, the app on real uvicorn, signed requests, a loopback page server."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from locations import REPO

from distributor.config import Settings, load_config
from distributor.web.signing import sign_headers

T0 = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
KEY = b"k" * 32
OLD_KEY = b"o" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OLD_SECRET = "whsec_" + base64.b64encode(OLD_KEY).decode()
ENV = {"DISTRIBUTOR_WEBHOOK_SECRET": SECRET, "DISTRIBUTOR_WEBHOOK_SECRET_OLD": OLD_SECRET}
CONFIG = """
[distributor]
sandbox = "builtin"
database = "sqlite:///{db}"
[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"
[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TELEGRAM_BOT_TOKEN"
review = true
"""
ARTICLE_FILE = REPO / "examples" / "articles" / "council-heat-pumps.json"


def article_body(**changes: Any) -> bytes:
    data = json.loads(ARTICLE_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def hook_settings_for(folder: Path, extra: str = "", **env: str) -> Settings:
    """Settings with channels masto and tg (review), sandboxed, a store in `folder`."""
    path = folder / "distributor.toml"
    path.write_text(CONFIG.format(db=folder / "d.db") + extra, encoding="utf-8")
    return load_config(path, environ={**ENV, **env})


def signed(
    body: bytes, key: bytes | list[bytes] = KEY, *, at: datetime = T0, msg_id: str | None = None
) -> dict[str, str]:
    return sign_headers(key, body, msg_id=msg_id, timestamp=int(at.timestamp()))


def post(base: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{base}/hooks/articles",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )


@contextmanager
def page_server(
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    delay: float = 0.0,
    asked: threading.Event | None = None,
) -> Iterator[str]:
    """A loopback HTTP server answering every GET with `body` (after `delay` seconds); `asked`
    is set when a GET arrives (a test can wait for a request to be in flight)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if asked is not None:
                asked.set()
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


PAGE = b"""<html><head><meta property="og:title" content="Fetched story">
<meta property="og:url" content="https://news.example/fetched"></head><body></body></html>"""
ALLOW_LOOPBACK = '[watch]\nallow_hosts = ["127.0.0.1"]\nallow_private = true\n'


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def database_url(kind: str, folder: Path) -> str:
    """SQLite in `folder`, or a new database on DISTRIBUTOR_TEST_PG_URL's server (else skip)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'd.db'}"
    base = os.environ.get("DISTRIBUTOR_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL tests need DISTRIBUTOR_TEST_PG_URL (CI sets it via .ci/run)")
    import uuid

    import psycopg

    name = "hooks_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base.rpartition('/')[0]}/{name}"
