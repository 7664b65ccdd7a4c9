"""The first hour's traps (issue 17 §2): each is one clear line and the documented exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_helpers import run

from distributor.web.signing import new_secret

PYTHON_MAIN = "import sys; from distributor.cli import main; sys.exit(main())"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something is already listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`distributor ARGV` as a real process with a pipe (not a terminal) on stdin."""
    return subprocess.run(
        [sys.executable, "-c", PYTHON_MAIN, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


def test_serve_on_a_busy_port_is_one_line_exit_2(
    in_tmp: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "serve", "--port", str(busy_port))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "serving on" not in err
    assert f"--port {busy_port}: cannot listen: address already in use" in err


@pytest.mark.parametrize("gone", ["fastapi", "argon2"])
def test_serve_with_part_of_the_web_extra_is_one_line_exit_2(
    in_tmp: Path, busy_port: int, gone: str
) -> None:
    """One module of the extra missing (a hand-picked install): named, before anything runs."""
    hide = f"import sys; sys.modules[{gone!r}] = None; "  # what `import` sees for a missing one
    done = subprocess.run(
        [sys.executable, "-c", hide + PYTHON_MAIN, "serve", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"needs the web extra (missing: {gone})" in done.stderr


def test_serve_beyond_loopback_warns(
    in_tmp: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # The busy port stops it before it listens on every interface; the warning comes first.
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0", "--port", str(busy_port))
    warning, error = err.splitlines()
    assert warning.startswith("warning: --host 0.0.0.0 exposes the webhook")
    assert "/admin/" in warning and error.startswith("error:") and code == 2
    code, _, err = run(capsys, "serve", "--host", "127.0.0.1", "--port", str(busy_port))
    assert "warning" not in err


def test_unsupported_store_url_is_a_configuration_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "log", "--database", "mysql://x")
    assert (code, out) == (2, "")
    assert err == "error: store URL 'mysql://x': use sqlite:///FILE or postgresql://...\n"


def test_worker_once_and_until_idle_is_a_usage_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "worker", "--once", "--until-idle", "--database", "sqlite:///w.db")
    assert code == 2 and "--once" in err and "exclude each other" in err
    assert not (in_tmp / "w.db").exists()  # refused before anything was created


def test_status_check_says_why_it_fails(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = "sqlite:///s.db"
    assert run(capsys, "migrate", "--database", db)[0] == 0
    code, out, err = run(capsys, "status", "--check", "--database", db)
    assert code == 1 and "queue is running" in out
    assert err == "check failed: no worker alive (0 known)\n"
    code, _, err = run(capsys, "status", "--check", "--json", "--database", db)
    assert code == 1 and err.startswith("check failed: no worker alive")


def test_hash_password_from_a_pipe_needs_no_terminal(in_tmp: Path) -> None:
    done = _cli("admin", "hash-password", stdin="correct horse battery\n")
    assert done.returncode == 0 and done.stdout.startswith("$argon2id$")
    assert "GetPassWarning" not in done.stderr and "echoed" not in done.stderr
    empty = _cli("admin", "hash-password", stdin="")
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr == (
        "error: no password on standard input (pipe one line, or run in a terminal)\n"
    )


@pytest.mark.parametrize("url", ["notaurl", "ftp://bot.example/x", "http:///nohost"])
def test_hook_send_to_a_bad_url_is_refused_at_once(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    monkeypatch.setenv("HOOK_KEY", new_secret())
    (in_tmp / "a.json").write_text('{"url": "https://news.example/a"}', encoding="utf-8")
    code, out, err = run(capsys, "hook", "send", url, "a.json", "--secret-env", "HOOK_KEY")
    assert (code, out) == (2, "")
    assert err == f"error: {url!r}: not an http(s) URL (e.g. https://bot.example/hooks/articles)\n"
