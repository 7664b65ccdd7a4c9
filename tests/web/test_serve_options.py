"""How `distributor serve` runs uvicorn (issue 13 findings 11 and 16), on real uvicorn with
the exact options `serve` passes: X-Forwarded-For counts only from configured proxies, and a
client that drips its request is cut off by the server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import PASSWORD, admin_state, app_over_sqlite, csrf_of

from distributor.store.store import Store
from distributor.web.server import DeadlineProtocol, server_options


@contextmanager
def served(app: Any, **options: Any) -> Iterator[str]:
    """`app` under uvicorn with `server_options(...)` on a free loopback port."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    conf = server_options("127.0.0.1", port, **options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **conf))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def app_and_store(tmp_path: Path) -> Iterator[tuple[Any, Store]]:
    with app_over_sqlite(tmp_path) as both:
        yield both


def try_login(base: str, password: str, forwarded_for: str) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{base}/admin/login")
    return http.post(
        f"{base}/admin/login",
        data={"csrf": csrf_of(page.text), "user": "alice", "password": password, "next": ""},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
    )


def login_origin(store: Store) -> str:
    return next(e["detail"] for e in store.events() if e["action"] == "admin login")


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    app_and_store: tuple[Any, Store],
) -> None:
    app, store = app_and_store
    with served(app) as base:
        codes = [try_login(base, "wrong", f"10.0.0.{n}").status_code for n in range(6)]
        assert codes == [401] * 5 + [429]  # one client, whatever address it claims
        admin_state(app).limiter.succeeded("alice", "127.0.0.1")
        assert try_login(base, PASSWORD, "203.0.113.7").status_code == 303
    assert login_origin(store) == "from 127.0.0.1"


def test_forwarded_for_counts_from_a_configured_proxy(app_and_store: tuple[Any, Store]) -> None:
    app, store = app_and_store
    with served(app, forwarded_allow_ips="127.0.0.1") as base:
        assert try_login(base, PASSWORD, "203.0.113.7").status_code == 303
    assert login_origin(store) == "from 203.0.113.7"


def drip(base: str, request: bytes, pause: float, budget: float) -> tuple[int, bytes]:
    """Send `request` one byte per `pause` s; (bytes sent before the server hung up, its answer).
    `budget` only guards against a hang."""
    host, port = base.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(budget)
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(pause)
            answer = sock.recv(65536)
        except OSError:  # reset or broken pipe: closed while we were still sending
            answer = b""
        return sent, answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n",
        b"POST /hooks/articles HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n" + b"{" * 300,
    ],
    ids=["slow headers", "slow body"],
)
def test_a_dripping_client_is_cut_off(
    app_and_store: tuple[Any, Store], monkeypatch: pytest.MonkeyPatch, request_bytes: bytes
) -> None:
    monkeypatch.setattr(DeadlineProtocol, "request_timeout", 1.0)
    app, _ = app_and_store
    with served(app) as base:
        full = len(request_bytes) * 0.02  # what the whole drip would take (> 4 s)
        sent, answer = drip(base, request_bytes, 0.02, budget=full + 30)
        assert sent < len(request_bytes), "the server read the whole drip"
        assert b"200 OK" not in answer
        assert requests.get(base + "/healthz", timeout=5).status_code == 200  # still serving


def test_a_prompt_client_keeps_working(
    app_and_store: tuple[Any, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline is per request: a keep-alive connection with quick requests stays usable."""
    monkeypatch.setattr(DeadlineProtocol, "request_timeout", 2.0)
    app, _ = app_and_store
    with served(app) as base, requests.Session() as http:
        for _ in range(4):
            assert http.get(base + "/healthz", timeout=5).status_code == 200
            time.sleep(0.8)  # 3.2 s on one connection in all, each request well in time


def exchange(base: str, *chunks: bytes) -> bytes:
    """Send `chunks` on one connection, a moment apart; everything the server answers until it
    closes the connection or falls silent for a second."""
    host, port = base.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(1.0)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
                time.sleep(0.05)
            while data := sock.recv(65536):
                answer += data
        except OSError:  # reset (closed while we sent), or silence: what came is the answer
            pass
    return answer


def head(n: int, path: str = "/healthz") -> bytes:
    """A GET request line with headers of about `n` bytes, without the blank line ending them."""
    pads = [f"X-Pad-{i}: {'a' * 990}\r\n".encode() for i in range(n // 1000)]
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + b"".join(pads)


def test_headers_still_incomplete_past_the_limit_get_431_and_a_closed_connection(
    app_and_store: tuple[Any, Store],
) -> None:
    app, _ = app_and_store
    with served(app) as base:
        big = head(20_000)
        answer = exchange(base, big[:8000], big[8000:])  # never finished: no blank line
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert answer.endswith(b"request headers are too large")
        assert requests.get(base + "/healthz", timeout=5).status_code == 200  # still serving


def test_headers_under_the_limit_in_pieces_and_requests_after_each_other_are_served(
    app_and_store: tuple[Any, Store],
) -> None:
    """The limit is per request's headers: three 12 KB heads on one keep-alive connection
    (36 KB in all) are three answers, and a body after the headers never counts."""
    app, _ = app_and_store
    with served(app) as base:
        one = head(12_000) + b"\r\n"
        answer = exchange(base, one[:5000], one[5000:], one, one)
        assert answer.count(b"HTTP/1.1 200 OK") == 3, answer[:200]
        body = b"{" + b" " * 30_000 + b"}"
        post = b"POST /hooks/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        answer = exchange(base, post + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert answer.startswith(b"HTTP/1.1 ") and b" 431 " not in answer[:20]
