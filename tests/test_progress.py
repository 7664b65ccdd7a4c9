"""Progress on a terminal, nothing extra when piped: `backup`, `publish --wait`, `watch
--backfill` run as real processes, once on a pseudo-terminal and once with pipes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from review_helpers import write_config
from watch_helpers import Item, rss

PYTHON_MAIN = "import sys; from distributor.cli import main; sys.exit(main())"
BAR = "━"  # rich's bar; with the escape sequences, what a pipe must never see


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return {**env, "COLUMNS": "120", "TERM": "xterm-256color"}


def on_terminal(*argv: str, cwd: Path) -> tuple[int, str]:
    """Run `distributor ARGV` with stdout and stderr on a pseudo-terminal; (exit, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", PYTHON_MAIN, *argv],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=_env(),
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def piped(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PYTHON_MAIN, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=120,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_config(tmp_path, f"sqlite:///{tmp_path / 'log.db'}")
    (tmp_path / "a.json").write_text(
        '{"url": "https://news.example/politik/p-1", "title": "Radbrücke kommt", '
        '"body": "Der Stadtrat stimmte zu.", "language": "de"}',
        encoding="utf-8",
    )
    (tmp_path / "feed.xml").write_bytes(rss([Item(n) for n in range(1, 6)]))
    assert piped("migrate", cwd=tmp_path).returncode == 0
    return tmp_path


def _quiet(stderr: str) -> None:
    assert BAR not in stderr and "\x1b[" not in stderr


def test_backup_shows_progress_only_on_a_terminal(folder: Path) -> None:
    code, shown = on_terminal("backup", "tty.db", cwd=folder)
    assert code == 0 and "backup" in shown and BAR in shown and "/3" in shown
    assert "backup written to" in shown
    done = piped("backup", "pipe.db", cwd=folder)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("backup written to") and done.stdout.count("\n") == 1


def test_publish_wait_shows_sends_only_on_a_terminal(folder: Path) -> None:
    argv = ("publish", "a.json", "--wait", "--timeout", "1")
    code, shown = on_terminal(*argv, cwd=folder)
    assert code == 7 and "sending" in shown and "0/3" in shown and BAR in shown
    done = piped(*argv, "--channel", "masto", cwd=folder)
    assert done.returncode == 7
    _quiet(done.stderr)
    assert done.stderr.startswith("error: platform unreachable") and done.stderr.count("\n") == 1


def test_watch_backfill_shows_planning_only_on_a_terminal(folder: Path) -> None:
    argv = ("watch", "feed.xml", "--once", "--backfill", "3", "--json")
    code, shown = on_terminal(*argv, cwd=folder)
    assert code == 0 and "backfill" in shown and BAR in shown and "/3" in shown
    (folder / "log.db").unlink()
    assert piped("migrate", cwd=folder).returncode == 0
    done = piped(*argv, cwd=folder)
    assert done.returncode == 0 and '"new": 3' in done.stdout
    _quiet(done.stderr)
