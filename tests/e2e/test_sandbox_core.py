"""The sandbox core through plain HTTP: faults, limits, inspection and the control API.

Everything goes over real loopback sockets with `requests`, against the session sandbox (reset
before each test); Mastodon and Telegram serve as the platforms under test because their
emulators are small and their error and rate-limit shapes differ.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

import pytest
import requests

from distributor.errors import ConfigError
from distributor.sandbox import Sandbox, check_loopback, parse_fault, parse_limit

TOKEN = {"Authorization": "Bearer core-test-token"}
BOT = "123456789:AAF-coretestTOKEN0123456789abcdefgh"


def toot(
    box: Sandbox, text: str = "hello", timeout: float = 2.0, auth: dict[str, str] = TOKEN
) -> Any:
    return requests.post(
        f"{box.url}/mastodon/api/v1/statuses", data={"status": text}, headers=auth, timeout=timeout
    )


def control(box: Sandbox, method: str, path: str, **kwargs: Any) -> Any:
    return requests.request(method, f"{box.url}/__sandbox/{path}", timeout=2, **kwargs)


# -- latency, errors, 429 bursts ---------------------------------------------------------


def test_latency_delays_only_the_matching_platform(sandbox: Sandbox) -> None:
    """A Telegram call made while a delayed Mastodon call waits is answered first."""
    for rule in ({"seconds": 5}, {"seconds": 0, "count": 1}):  # the second: a sign of arrival
        control(sandbox, "POST", "faults", json={"platform": "mastodon", "kind": "latency", **rule})
    statuses: list[int] = []
    slow = threading.Thread(target=lambda: statuses.append(toot(sandbox, timeout=30).status_code))
    slow.start()
    try:
        deadline = time.monotonic() + 30  # a hang guard only
        while len(sandbox.faults.rules()) == 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sandbox.faults.rules()) == 1  # the toot is in the sandbox, being delayed
        assert requests.get(f"{sandbox.url}/telegram/bot{BOT}/getMe", timeout=30).json()["ok"]
    finally:
        slow.join(30)
    assert statuses == [200]
    assert [r["platform"] for r in sandbox.requests()] == ["telegram", "mastodon"]


def _statuses(box: Sandbox, n: int) -> list[int]:
    with requests.Session() as s:
        return [
            s.post(
                f"{box.url}/mastodon/api/v1/statuses", data={"status": f"n{i}"}, headers=TOKEN
            ).status_code
            for i in range(n)
        ]


def test_error_rate_is_plausible_seeded_and_nothing_is_processed(sandbox: Sandbox) -> None:
    rule = {"platform": "mastodon", "route": "create", "kind": "error", "status": 503, "rate": 0.3}
    assert control(sandbox, "POST", "faults", json=rule).status_code == 201
    first = _statuses(sandbox, 200)
    failed = first.count(503)
    assert 35 <= failed <= 85, failed  # 200 x 0.3 = 60 expected; a binomial sd is ~6.5
    assert set(first) == {200, 503}
    assert len(sandbox.posts("mastodon")) == first.count(200)  # errors were not processed
    logged = [r for r in sandbox.requests("mastodon") if r["fault"] == "error"]
    assert len(logged) == failed and {r["status"] for r in logged} == {503}
    sandbox.reset()  # the RNG restarts from the seed: the same requests fail again
    control(sandbox, "POST", "faults", json=rule)
    assert _statuses(sandbox, 200) == first


def test_error_body_is_the_platforms_shape(sandbox: Sandbox) -> None:
    sandbox.faults.add(platform="telegram", route="create", kind="error", status=400, count=1)
    sandbox.faults.add(platform="mastodon", route="create", kind="error", status=502, error="html")
    answer = requests.post(f"{sandbox.url}/telegram/bot{BOT}/sendMessage", timeout=2).json()
    assert answer["ok"] is False and answer["error_code"] == 400 and answer["description"]
    page = toot(sandbox)
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in page.text


def test_429_burst_then_normal_service(sandbox: Sandbox) -> None:
    sandbox.faults.add(parse_fault("mastodon:create:rate_limit:90:count=3"))
    replies = [toot(sandbox, f"burst {i}") for i in range(4)]
    assert [r.status_code for r in replies] == [429, 429, 429, 200]
    reset = datetime.fromisoformat(replies[0].headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert 80 < reset.timestamp() - time.time() <= 91  # Mastodon: an ISO-8601 reset time
    assert [p.text for p in sandbox.posts("mastodon")] == ["burst 3"]
    sandbox.faults.add(platform="telegram", route="create", kind="rate_limit", seconds=7, count=1)
    answer = requests.post(f"{sandbox.url}/telegram/bot{BOT}/sendMessage", timeout=2).json()
    assert answer["error_code"] == 429 and answer["parameters"]["retry_after"] == 7


# -- connection faults -------------------------------------------------------------------


def test_hang_gives_a_read_timeout_and_no_post(sandbox: Sandbox) -> None:
    sandbox.faults.add(platform="mastodon", route="create", kind="hang", seconds=2, count=1)
    with pytest.raises(requests.ReadTimeout):
        toot(sandbox, timeout=0.3)
    assert sandbox.posts("mastodon") == []
    assert [r["fault"] for r in sandbox.requests("mastodon")] == ["hang"]


def test_reset_before_read_is_a_connection_error_with_nothing_recorded(sandbox: Sandbox) -> None:
    sandbox.faults.add(parse_fault("mastodon:create:reset:count=1"))
    with pytest.raises(requests.ConnectionError) as caught:
        toot(sandbox)
    assert not isinstance(caught.value, requests.ReadTimeout)
    assert sandbox.posts("mastodon") == []
    [entry] = sandbox.requests("mastodon")
    assert entry["fault"] == "reset" and entry["status"] == 0
    assert toot(sandbox).status_code == 200  # count=1: the next request goes through


@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_creates_the_post_but_the_client_never_hears(sandbox: Sandbox, mode: str) -> None:
    sandbox.faults.add(parse_fault(f"mastodon:create:lost:{mode}:count=1"))
    if mode == "reset":
        with pytest.raises(requests.ConnectionError):
            toot(sandbox, "lost toot")
    else:
        answer = toot(sandbox, "lost toot")
        assert answer.status_code == 504 and "504 Gateway Timeout" in answer.text
    posts = control(sandbox, "GET", "posts", params={"platform": "mastodon"}).json()
    assert [p["text"] for p in posts] == ["lost toot"]
    assert [r["fault"] for r in sandbox.requests("mastodon")] == ["lost"]


# -- limits ------------------------------------------------------------------------------


def test_limit_sends_rate_headers_and_429_after_the_window_fills(sandbox: Sandbox) -> None:
    body = {"platform": "mastodon", "route": "create", "limit": 2, "window": 1.5}
    assert control(sandbox, "POST", "limits", json=body).status_code == 201
    replies = [toot(sandbox, f"l{i}") for i in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["1", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in replies} == {"2"}
    assert replies[2].json() == {"error": "Too many requests"}
    assert len(sandbox.posts("mastodon")) == 2
    assert sandbox.requests("mastodon")[-1]["fault"] == "limit"
    other = {"Authorization": "Bearer another-account"}
    assert toot(sandbox, "other", auth=other).status_code == 200  # windows are per account
    reset = datetime.fromisoformat(replies[2].headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert 0 < reset.timestamp() - time.time() <= 1.5
    time.sleep(max(0.0, reset.timestamp() - time.time()) + 0.05)
    assert toot(sandbox, "after the window").status_code == 200


def test_limits_and_faults_must_name_real_routes(sandbox: Sandbox) -> None:
    typo = control(sandbox, "POST", "faults", data="mastodon:creat:error:503")
    assert typo.status_code == 400 and "no route 'creat'" in typo.json()["error"]
    both = [
        {"platform": "mastodon", "route": "create", "limit": 1, "window": 5},
        {"platform": "mastadon", "route": "create", "limit": 1, "window": 5},
    ]
    refused = control(sandbox, "POST", "limits", json=both)
    assert refused.status_code == 400 and "mastadon" in refused.json()["error"]
    limits = control(sandbox, "GET", "limits").json()
    create = [x for x in limits if (x["platform"], x["route"]) == ("mastodon", "create")]
    assert create == [  # all or nothing: Mastodon's own default is still in force
        {"platform": "mastodon", "route": "create", "limit": 300, "window": 10800.0}
    ]
    with pytest.raises(ConfigError, match="unknown platform"):
        sandbox.faults.add(platform="myspace", kind="reset")


# -- control API, inspection, reset ------------------------------------------------------


def test_text_specs_through_the_control_api(sandbox: Sandbox) -> None:
    added = control(
        sandbox, "POST", "faults", data="mastodon:create:error:503:count=1\ntelegram:*:latency:5ms"
    )
    assert [r["kind"] for r in added.json()] == ["error", "latency"]
    assert control(sandbox, "POST", "limits", data="mastodon:create:5/1min").json() == [
        {"platform": "mastodon", "route": "create", "limit": 5, "window": 60.0}
    ]
    assert toot(sandbox).status_code == 503  # an injected error does not count
    assert toot(sandbox).headers["X-RateLimit-Remaining"] == "4"
    assert control(sandbox, "DELETE", "faults", params={"platform": "mastodon"}).ok
    assert [r["platform"] for r in control(sandbox, "GET", "faults").json()] == ["telegram"]


def test_bad_control_input_is_one_line_400(sandbox: Sandbox) -> None:
    for body in ("{not json", "mastodon:create:explode", '{"kind": "error", "colour": 1}'):
        answer = control(sandbox, "POST", "faults", data=body)
        assert answer.status_code == 400
        assert "\n" not in answer.json()["error"]
    assert control(sandbox, "GET", "nothing-here").status_code == 404


def test_requests_listing_filters_by_platform(sandbox: Sandbox) -> None:
    toot(sandbox)
    requests.get(f"{sandbox.url}/telegram/bot{BOT}/getMe", timeout=2)
    requests.get(f"{sandbox.url}/mastodon/api/v1/unknown", headers=TOKEN, timeout=2)
    listed = control(sandbox, "GET", "requests", params={"platform": "mastodon"}).json()
    assert [(r["method"], r["path"], r["route"], r["status"]) for r in listed] == [
        ("POST", "/api/v1/statuses", "create", 200),
        ("GET", "/api/v1/unknown", None, 404),
    ]
    [bot] = control(sandbox, "GET", "requests", params={"platform": "telegram"}).json()
    assert bot["path"] == "/bot***/getMe"  # the token in Telegram's path is not kept
    assert len(control(sandbox, "GET", "requests").json()) == 3


def test_reset_clears_posts_requests_faults_and_limits(sandbox: Sandbox) -> None:
    sandbox.set_limit("mastodon", "create", 10, 60)
    sandbox.faults.add(platform="telegram", kind="latency", seconds=0.01)
    toot(sandbox)
    assert control(sandbox, "POST", "reset").json() == {"ok": True}
    assert control(sandbox, "GET", "posts").json() == []
    assert sandbox.requests() == [] and sandbox.faults.rules() == []
    answer = toot(sandbox)  # the limit set above is gone: Mastodon's own default again
    assert (answer.headers["X-RateLimit-Limit"], answer.headers["X-RateLimit-Remaining"]) == (
        "300",
        "299",
    )
    assert toot(sandbox).json()["id"] == "2"  # ids restart too


def test_construction_faults_and_limits_survive_reset() -> None:
    rule = parse_fault("mastodon:create:error:500:count=1")
    with Sandbox(
        platforms=["mastodon"], faults=[rule], limits=[parse_limit("mastodon:create:9/60")]
    ) as box:
        assert toot(box).status_code == 500
        box.reset()
        assert toot(box).status_code == 500
        assert toot(box).headers["X-RateLimit-Remaining"] == "8"
        assert control(box, "GET", "health").json()["platforms"] == ["mastodon"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.com", "::", "10.0.0.1"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="not a loopback address"):
        Sandbox(host=host)


def test_loopback_spellings_are_accepted() -> None:
    assert check_loopback("localhost") == "127.0.0.1"
    assert check_loopback("127.0.0.5") == "127.0.0.5"
    assert check_loopback("[::1]") == "::1"


def test_health_and_routes(sandbox: Sandbox) -> None:
    health = control(sandbox, "GET", "health").json()
    assert health["ok"] and health["url"] == sandbox.url
    assert {"mastodon", "telegram"} <= set(health["platforms"])
    routes = control(sandbox, "GET", "routes", params={"platform": "mastodon"}).json()
    assert "create" in routes["mastodon"] and "delete" in routes["mastodon"]


def test_listing_requests_while_traffic_flows(sandbox: Sandbox) -> None:
    stop = threading.Event()

    def traffic() -> None:
        with requests.Session() as s:
            while not stop.is_set():
                s.get(f"{sandbox.url}/telegram/bot{BOT}/getMe", timeout=2)

    workers = [threading.Thread(target=traffic) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        started, listings = time.monotonic(), 0

        def busy() -> bool:  # listing for a while, and until traffic did arrive
            elapsed = time.monotonic() - started
            assert elapsed < 60, "no traffic reached the sandbox"
            return elapsed < 0.7 or listings <= 10 or len(sandbox.requests("telegram")) <= 10

        while busy():
            sandbox.requests("telegram")  # iterating the live log used to raise RuntimeError
            listings += 1
    finally:
        stop.set()
        for w in workers:
            w.join()


def _connection_threads(box: Sandbox) -> list[threading.Thread]:
    """The threads serving connections of `box` (a thread's target is its server's method)."""
    server = box._server
    return [
        t
        for t in threading.enumerate()
        if getattr(t, "_target", None) == server.process_request_thread
    ]


def test_dropping_idle_connections_ends_their_threads_and_clients_reconnect() -> None:
    with Sandbox(port=0) as box, requests.Session() as client:
        assert client.get(f"{box.url}/__sandbox/health", timeout=5).ok
        first = _connection_threads(box)
        assert len(first) == 1  # kept alive: its thread waits for the next request
        box.drop_connections()
        first[0].join(5)  # the thread may have been just finishing its answer
        assert not first[0].is_alive()
        assert client.get(f"{box.url}/__sandbox/health", timeout=5).ok  # on a new connection
        second = _connection_threads(box)
        assert len(second) == 1 and second != first
        box.stop()
        second[0].join(5)
        assert not second[0].is_alive()  # stopping closes kept-alive connections too


def test_root_url_is_an_index(sandbox: Sandbox) -> None:
    index = requests.get(sandbox.url, timeout=2).json()
    assert index["platforms"]["mastodon"] == f"{sandbox.url}/mastodon"
    assert index["config"] == f'[distributor]\nsandbox = "{sandbox.url}"'
    assert index["control"]["reset"] == f"POST {sandbox.url}/__sandbox/reset"


FIRST_POSTS = """
import threading, requests
from distributor.sandbox import Sandbox
codes, ready = [], threading.Barrier(16)
def post(url, i):
    session = requests.Session()
    session.get(url.rsplit("/", 1)[0] + "/__sandbox/health")  # connected before the barrier
    ready.wait()
    if "/x/" in url:
        answer = session.post(url, json={"text": f"t{i} https://a.example"}, timeout=5,
                              headers={"Authorization": "Bearer x-user"})
    else:
        answer = session.post(url, data={"status": f"m{i} https://a.example"}, timeout=5,
                              headers={"Authorization": "Bearer m"})
    codes.append(answer.status_code)
with Sandbox(platforms=["x", "mastodon"]) as box:
    urls = [box.url + "/x/2/tweets", box.url + "/mastodon/api/v1/statuses"] * 8
    threads = [threading.Thread(target=post, args=(u, i)) for i, u in enumerate(urls)]
    [t.start() for t in threads]
    [t.join() for t in threads]
print(sorted(codes))
"""


def test_first_posts_of_a_fan_out_do_not_race_on_lazy_imports() -> None:
    # A fresh interpreter: twitter_text not imported yet, as in `distributor sandbox`.
    done = subprocess.run(
        [sys.executable, "-c", FIRST_POSTS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str([200] * 8 + [201] * 8)


def test_chunked_bodies_are_read_and_broken_framing_is_a_400(sandbox: Sandbox) -> None:
    def body() -> Any:
        yield b"status=sent+in"
        yield b"+two+chunks"

    headers = {**TOKEN, "Content-Type": "application/x-www-form-urlencoded"}
    answer = requests.post(
        f"{sandbox.url}/mastodon/api/v1/statuses", data=body(), headers=headers, timeout=2
    )
    assert answer.status_code == 200
    assert [p.text for p in sandbox.posts("mastodon")] == ["sent in two chunks"]
    with socket.create_connection((sandbox.host, sandbox.port), timeout=2) as raw:
        raw.sendall(
            b"POST /mastodon/api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"
        )
        reply = raw.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 400") and "Content-Length" in reply.split("\r\n\r\n")[1]
