"""`distributor sandbox` as users run it, and the fault/limit spec grammar it reads.

The standalone test starts the real console script as a subprocess on a free port, talks to it
with plain requests and stops it with a signal, as a terminal or a service manager would.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from locations import child_env

from distributor.cli import main
from distributor.errors import ConfigError
from distributor.sandbox import FaultRule, parse_fault, parse_limit


def command() -> list[str]:
    """The installed console script next to this interpreter, else the same entry point."""
    script = Path(sys.executable).with_name("distributor")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from distributor.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(proc: subprocess.Popen[str], url: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sandbox exited early ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        try:
            if requests.get(f"{url}/__sandbox/health", timeout=2).ok:
                return
        except requests.RequestException:  # not listening yet, or too slow to answer
            time.sleep(0.05)
    pytest.fail("sandbox did not become healthy")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_standalone_sandbox_applies_faults_and_stops_cleanly(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["sandbox", "--port", str(port), "--fault", "mastodon:create:error:503:count=1"]
    args += ["--limit", "mastodon:create:5/60", "--seed", "3"]
    proc = subprocess.Popen(
        [*command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=child_env(),
    )
    try:
        wait_healthy(proc, url)
        toot = f"{url}/mastodon/api/v1/statuses"
        auth = {"Authorization": "Bearer standalone-test"}
        failed = requests.post(toot, data={"status": "first"}, headers=auth, timeout=2)
        assert failed.status_code == 503 and "error" in failed.json()
        ok = requests.post(toot, data={"status": "second"}, headers=auth, timeout=2)
        assert ok.status_code == 200 and ok.headers["X-RateLimit-Remaining"] == "4"
        posts = requests.get(f"{url}/__sandbox/posts?platform=mastodon", timeout=2).json()
        assert [p["text"] for p in posts] == ["second"]
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f'sandbox = "{url}"' in out and f"{url}/mastodon" in out
    assert "Fault:   mastodon:create:error:503:server:count=1" in out
    assert "Limit:   mastodon:create 5 per 60s" in out
    assert "/mastodon/api/v1/statuses  -> 503 (create" in out and "[error]" in out
    assert out.rstrip().endswith("sandbox stopped (2 requests, 1 posts)")
    assert "Traceback" not in err


def test_a_request_while_the_banner_prints_is_printed_after_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client that polls the port (as CI hooks do) can be answered before the banner is out;
    its line must still be printed, and after the banner, not lost or mixed into it."""
    from distributor.cli import sandbox as command_module

    real_banner = command_module._banner
    client: list[threading.Thread] = []

    def banner_with_a_request_arriving(box: Any, rules: Any, seed: int) -> None:
        toot = f"{box.url}/mastodon/api/v1/statuses"
        post = threading.Thread(target=_post, args=(toot,))
        post.start()
        client.append(post)
        deadline = time.monotonic() + 10
        while not box.requests() and time.monotonic() < deadline:  # served, maybe not printed
            time.sleep(0.01)
        real_banner(box, rules, seed)
        signal.raise_signal(signal.SIGTERM)  # the loop after the banner stops at once

    monkeypatch.setattr(command_module, "_banner", banner_with_a_request_arriving)
    try:
        main(["sandbox", "--port", "0", "--fault", "mastodon:create:error:503:count=1"])
    except SystemExit as exited:  # depending on click's mode, main exits or returns
        assert exited.code in (0, None)
    client[0].join(timeout=10)
    out = capsys.readouterr().out
    banner_end = out.index("Stop with Ctrl-C")
    line = out.index("/mastodon/api/v1/statuses  -> 503 (create")
    assert banner_end < line


def _post(url: str) -> None:
    requests.post(url, data={"status": "x"}, headers={"Authorization": "Bearer t"}, timeout=10)


def test_bad_fault_spec_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [*command(), "sandbox", "--port", "0", "--fault", "mastodon:create:explode:1"],
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env(),
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: fault 'mastodon:create:explode:1': kind 'explode' unknown "
        "(use one of latency, error, rate_limit, hang, reset, lost)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "sandbox host '0.0.0.0' is not a loopback address"),
        (["--host", "192.168.0.10"], "is not a loopback address"),
        (["--fault", "mastodon:creat:error:503"], "mastodon has no route 'creat'"),
        (["--fault", "myspace:create:reset"], "unknown platform 'myspace'"),
        (["--fault", "mastodon:create:error:503:rate=2"], "rate 2.0 must be between 0 and 1"),
        (["--limit", "mastodon:create:lots"], "limit 'mastodon:create:lots': not a rate"),
        (["--limit", "mastodon:*:3/60"], "mastodon has no route '*'"),
        (["--platform", "myspace"], "no emulator for platform 'myspace'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "--port", "0", *args])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("error: ") and message in line
    assert captured.out == ""


def test_busy_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            main(["sandbox", "--port", str(port), "--quiet"])
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: sandbox: cannot listen on 127.0.0.1:{port}")


def test_help_explains_specs_and_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        main(["sandbox", "--help"])
    except SystemExit as exited:  # depending on click's mode, --help exits or returns
        assert exited.code in (0, None)
    text = capsys.readouterr().out
    for needle in ("--fault SPEC", "--limit", "--latency", "--seed", "Examples:", "sandbox = "):
        assert needle in text
    for kind in ("error:STATUS", "rate_limit", "latency:SECONDS", "hang", "reset", "lost"):
        assert kind in text


def test_cli_path_does_not_import_the_server() -> None:
    code = (
        "import sys, distributor.cli.sandbox, distributor.sandbox\n"
        "heavy = ['http.server', 'requests', 'distributor.sandbox.core', 'jinja2']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "[]"


# -- the spec grammar --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("x:create:error:503:count=2", {"status": 503, "count": 2, "error": "server"}),
        ("mastodon:create:error:502:html", {"status": 502, "error": "html"}),
        ("mastodon:*:error:html", {"status": 503, "error": "html", "route": "*"}),
        ("*:*:latency:250ms", {"kind": "latency", "seconds": 0.25, "platform": "*"}),
        ("bluesky:create:lost:504:rate=30%", {"mode": "504", "rate": 0.3}),
        ("telegram:create:hang", {"seconds": 30.0}),
        ("x:create:rate_limit:2s:count=3", {"seconds": 2.0, "count": 3}),
        ("x:create:error:401", {"error": "auth"}),
        ("x:create:error:status=403:error=duplicate", {"status": 403, "error": "duplicate"}),
    ],
)
def test_fault_specs(spec: str, expected: dict[str, Any]) -> None:
    rule = parse_fault(spec)
    assert {k: getattr(rule, k) for k in expected} == expected
    assert parse_fault(rule.to_spec()) == rule  # the printed form reads back the same


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mastodon:create", "expected platform:route:kind"),
        ("mastodon::error", "expected platform:route:kind"),
        ("mastodon:create:reset:5", "unexpected value '5'"),
        ("mastodon:create:error:503:count=0", "count 0 must be at least 1"),
        ("mastodon:create:error:503:count=1.5", "key 'count' has a bad value"),
        ("mastodon:create:lost:maybe", "mode 'maybe' unknown"),
        ("mastodon:create:error:503:htlm", "error kind 'htlm' unknown"),
        ("mastodon:create:error:503:colour=red", "unknown key(s) colour"),
        ("mastodon:create:error:503:status=500", "'status' given twice"),
        ("mastodon:create:latency:-1", "must not be negative"),
        ("mastodon:create:error:99", "99 is not an HTTP status"),
    ],
)
def test_bad_fault_specs_name_the_problem(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_fault(spec)
    assert str(caught.value).startswith(f"fault {spec!r}: ") and message in str(caught.value)


def test_limit_specs() -> None:
    assert parse_limit("mastodon:create:3/60") == ("mastodon", "create", 3, 60.0)
    assert parse_limit("x:create:50/15min") == ("x", "create", 50, 900.0)
    assert parse_limit("x:media:300/h") == ("x", "media", 300, 3600.0)
    for bad in ("x:create", "x:create:0/60", "x:create:3/0", "x:create:three/60"):
        with pytest.raises(ConfigError, match="limit"):
            parse_limit(bad)


def test_rate_and_count_together_cap_the_firings() -> None:
    from distributor.sandbox import Faults

    faults = Faults(seed=5)
    faults.add(FaultRule(platform="x", route="create", kind="reset", rate=0.5, count=3))
    fired = [faults.decide("x", "create").rule is not None for _ in range(40)]
    assert sum(fired) == 3  # at most `count` times...
    last = max(i for i, f in enumerate(fired) if f)
    assert last > 2  # ...and not simply the next three: each one only with probability 0.5
    assert faults.rules() == []  # used up
