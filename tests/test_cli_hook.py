"""`distributor hook secret|sign|send` against the real server, and `distributor serve` as a real
process: /healthz answers, SIGTERM ends it with exit 0."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import serve
from hook_helpers import (
    ALLOW_LOOPBACK,
    ARTICLE_FILE,
    ENV,
    KEY,
    PAGE,
    SECRET,
    free_port,
    hook_settings_for,
    page_server,
    post,
)
from locations import REPO, child_env
from review_helpers import run
from signal_helpers import signal_twice
from standardwebhooks.webhooks import Webhook

from distributor.store.store import Store
from distributor.web.app import create_app
from distributor.web.signing import parse_secret, sign_headers, verify

PYTHON_MAIN = "from distributor.cli import main; main()"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose .env holds the webhook secrets (as an operator's would)."""
    hook_settings_for(tmp_path)
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()), "utf-8")
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "distributor.toml"


@pytest.fixture
def server(config: Path) -> Iterator[tuple[str, Store]]:
    """The real app on uvicorn, with the real clock (the CLI signs with the time now)."""
    app = create_app(hook_settings_for(config.parent))
    with serve(app) as url:
        yield url, app.state.web.store
    app.state.web.store.close()


def test_hook_secret_prints_fresh_standard_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    first, second = (run(capsys, "hook", "secret")[1].strip() for _ in range(2))
    assert first.startswith("whsec_") and first != second
    assert len(parse_secret(first, "X")) == 32
    Webhook(first)  # the reference library takes it too


def test_hook_sign_headers_verify_here_and_in_the_reference_library(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, err = run(
        capsys, "-c", str(config), "hook", "sign", "--id", "msg_x", str(ARTICLE_FILE)
    )
    assert code == 0, err
    headers = dict(line.split(": ", 1) for line in out.strip().splitlines())
    body = ARTICLE_FILE.read_bytes()
    assert verify([KEY], headers, body, now=time.time()) == "msg_x"
    Webhook(SECRET).verify(body, headers)  # raises if it does not verify


def test_reference_library_signatures_verify_here() -> None:
    body = ARTICLE_FILE.read_bytes()
    now = int(time.time())
    from datetime import UTC, datetime

    sig = Webhook(SECRET).sign("msg_ref", datetime.fromtimestamp(now, UTC), body.decode())
    headers = {"webhook-id": "msg_ref", "webhook-timestamp": str(now), "webhook-signature": sig}
    assert verify([KEY], headers, body, now=now) == "msg_ref"


def test_hook_sign_curl_command_is_accepted_by_the_server(
    capsys: pytest.CaptureFixture[str], config: Path, server: tuple[str, Store]
) -> None:
    url, store = server
    code, out, err = run(
        capsys,
        "-c",
        str(config),
        "hook",
        "sign",
        "--curl",
        f"{url}/hooks/articles",
        str(ARTICLE_FILE),
    )
    assert code == 0, err
    done = subprocess.run(out, shell=True, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"deliveries"' in done.stdout and len(store.query()[0]) == 2


def test_hook_send_posts_once_and_reports_refusals(
    capsys: pytest.CaptureFixture[str], config: Path, server: tuple[str, Store]
) -> None:
    url, store = server
    hook = f"{url}/hooks/articles"
    code, out, err = run(
        capsys, "-c", str(config), "hook", "send", "--id", "msg_s", hook, str(ARTICLE_FILE)
    )
    assert code == 0 and out.startswith("HTTP 202"), err
    again = run(capsys, "-c", str(config), "hook", "send", "--id", "msg_s", hook, str(ARTICLE_FILE))
    assert again[0] == 0 and len(store.query()[0]) == 2
    wrong = {"OTHER_SECRET": "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="}
    os.environ.update(wrong)
    try:
        code, out, err = run(
            capsys,
            "-c",
            str(config),
            "hook",
            "send",
            "--secret-env",
            "OTHER_SECRET",
            hook,
            str(ARTICLE_FILE),
        )
    finally:
        del os.environ["OTHER_SECRET"]
    assert code == 1 and out.startswith("HTTP 401")


def test_hook_without_a_secret_is_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook_settings_for(tmp_path)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(
        capsys, "-c", str(tmp_path / "distributor.toml"), "hook", "sign", str(ARTICLE_FILE)
    )
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "DISTRIBUTOR_WEBHOOK_SECRET" in err
    monkeypatch.setenv("BROKEN", "whsec_short")
    code, _, err = run(capsys, "hook", "sign", "--secret-env", "BROKEN", str(ARTICLE_FILE))
    assert code != 0 and "BROKEN" in err and "whsec_short" not in err and "Traceback" not in err


def start_serve(config: Path, port: int, workers: int = 1) -> subprocess.Popen[str]:
    env = child_env()
    argv = ["-c", str(config), "serve", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(
        [sys.executable, "-c", PYTHON_MAIN, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        env=env,
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_healthz_and_stops_on_sigterm(config: Path, workers: int) -> None:
    port = free_port()
    proc = start_serve(config, port, workers)
    try:
        health = _wait_healthy(proc, f"http://127.0.0.1:{port}/healthz")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert health == {"status": "ok", "store": "ok", "paused": False, "webhook": "enabled"}
    assert proc.returncode == 0, err
    assert "Traceback" not in err and SECRET not in err
    assert err.count("Application startup complete") == workers  # every process logs, redacted


def _wait_healthy(proc: subprocess.Popen[str], url: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        try:
            resp = requests.get(url, timeout=2)
            if resp.ok:
                return {k: v for k, v in resp.json().items() if k != "version"}
        except requests.RequestException:  # not listening yet, or too slow to answer
            time.sleep(0.1)
    pytest.fail("serve did not answer /healthz")


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    config = tmp_path / "distributor.toml"
    asked = threading.Event()
    with page_server(PAGE, delay=1.5, asked=asked) as site:
        hook_settings_for(tmp_path, ALLOW_LOOPBACK)
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()), "utf-8")
        port = free_port()
        proc = start_serve(config, port)
        answers: list[requests.Response] = []
        try:
            _wait_healthy(proc, f"http://127.0.0.1:{port}/healthz")
            body = json.dumps({"url": f"{site}/story"}).encode()
            base = f"http://127.0.0.1:{port}"
            sender = threading.Thread(
                target=lambda: answers.append(post(base, body, sign_headers(KEY, body)))
            )
            sender.start()
            assert asked.wait(30), "the hook never fetched the page"  # now in flight
            proc.send_signal(signal.SIGTERM)
            sender.join(20)
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [a.status_code for a in answers] == [202], err
    assert proc.returncode == 0, err


def test_a_second_sigterm_does_not_wait_for_the_request_in_flight(tmp_path: Path) -> None:
    config = tmp_path / "distributor.toml"
    asked = threading.Event()
    with page_server(PAGE, delay=30, asked=asked) as site:  # the request takes half a minute
        hook_settings_for(tmp_path, ALLOW_LOOPBACK)
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()), "utf-8")
        port = free_port()
        proc = start_serve(config, port)
        try:
            _wait_healthy(proc, f"http://127.0.0.1:{port}/healthz")
            body = json.dumps({"url": f"{site}/story"}).encode()
            base = f"http://127.0.0.1:{port}"
            cut: list[type[Exception]] = []

            def send() -> None:
                try:
                    post(base, body, sign_headers(KEY, body))
                except requests.ConnectionError as exc:  # the server went away mid-request
                    cut.append(type(exc))

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            assert asked.wait(30), "the hook never fetched the page"  # now in flight
            _, err = signal_twice(proc, timeout=20)  # long before the page answers
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    sender.join(10)
    assert proc.returncode == 130, err
    assert "second SIGTERM: exiting now" in err and "Traceback" not in err
    assert cut  # the request in flight was not answered


def _doc_block(marker: str) -> str:
    """The code block of docs/webhooks.md whose first line is `# <marker>`."""
    text = (REPO / "docs" / "webhooks.md").read_text(encoding="utf-8")
    found = re.search(rf"```\w+\n# {marker}\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/webhooks.md has no block # {marker}"
    return found.group(1)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_the_documented_openssl_snippet_is_accepted(server: tuple[str, Store]) -> None:
    url, store = server
    env = {**os.environ, **ENV, "ARTICLE": str(ARTICLE_FILE)}
    env["DISTRIBUTOR_HOOK_URL"] = f"{url}/hooks/articles"
    done = subprocess.run(
        ["bash", "-c", "set -eu\n" + _doc_block("sign-with-openssl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"deliveries"' in done.stdout and len(store.query()[0]) == 2


def test_the_documented_python_snippet_is_accepted(server: tuple[str, Store]) -> None:
    url, store = server
    namespace: dict[str, Any] = {}
    exec(_doc_block("sign-with-python"), namespace)
    article = json.loads(ARTICLE_FILE.read_text(encoding="utf-8"))
    answer = namespace["send_article"](f"{url}/hooks/articles", SECRET, article)
    assert sorted(answer["deliveries"]) == sorted(d.id for d in store.query()[0])


def test_hook_send_resends_after_a_5xx_with_the_same_id(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    seen: list[dict[str, str]] = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            status = 503 if len(seen) == 1 else 202
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/articles"
        code, out, err = run(capsys, "-c", str(config), "hook", "send", url, str(ARTICLE_FILE))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert code == 0 and out.startswith("HTTP 202") and "HTTP 503" in err
    assert len(seen) == 2 and seen[0]["webhook-id"] == seen[1]["webhook-id"]
