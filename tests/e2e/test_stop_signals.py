"""SIGTERM/SIGINT: one behaviour for `worker`, `watch`, `serve` and `sandbox` (docs/operations.md,
"Stopping"): the first signal stops the command cleanly (exit 0), a second one exits at once
(130), and so does a stop that outlasts its grace. The command-specific cases (a send or a poll
in flight) are in test_worker_shutdown.py, test_watch_cli.py and test_cli_hook.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hook_helpers import ENV, free_port
from locations import REPO, child_env
from signal_helpers import signal_twice

from distributor.signals import EXIT_FORCED, StopSignals
from distributor.store import open_store

CONFIG = REPO / "examples" / "distributor.toml"
FEED = REPO / "examples" / "articles" / "feed.xml"
MAIN = "from distributor.cli import main; main()"
HELPER = """
import logging, sys, time
from distributor.signals import StopSignals
logging.basicConfig(level=logging.INFO, format="%(message)s")
grace = float(sys.argv[1]) if sys.argv[1] else None
with StopSignals(grace=grace, on_force=lambda: print("on_force", flush=True)) as stop:
    print("ready", flush=True)
    stop.wait()
    time.sleep(float(sys.argv[2]))  # what the command finishes after the first signal
print("stopped cleanly", flush=True)
"""


def _helper(grace: str, finishing: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HELPER, grace, str(finishing)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_first_signal_stops_cleanly(sig: signal.Signals) -> None:
    proc = _helper("", 0.2)
    proc.send_signal(sig)
    out, err = _finish(proc)
    assert proc.returncode == 0, err
    assert out == "stopped cleanly\n"
    assert f"{sig.name}: finishing what is in flight (send it again to exit now)" in err


def test_second_signal_exits_at_once_with_130() -> None:
    proc = _helper("", 60.0)  # the stop would take a minute
    out, err = signal_twice(proc, signal.SIGTERM, signal.SIGINT)
    assert proc.returncode == EXIT_FORCED, err
    assert out == "on_force\n"  # the command's own last words (serve kills its workers)
    assert "second SIGINT: exiting now" in err and "Traceback" not in err


def test_a_stop_that_outlasts_the_grace_exits_with_130() -> None:
    proc = _helper("0.5", 60.0)
    proc.send_signal(signal.SIGTERM)
    out, err = _finish(proc)
    assert proc.returncode == EXIT_FORCED, err
    assert "still stopping after 0.5s: exiting now" in err and "stopped cleanly" not in out


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with StopSignals() as stop:
        assert signal.getsignal(signal.SIGTERM) not in before
        assert not stop.is_set()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def _worker_ready(tmp: Path, log: Path) -> bool:
    store = open_store(f"sqlite:///{tmp / 'd.db'}", migrate=False)
    try:
        return bool(store.workers())  # the heartbeat row: the claim loop (and its handler) runs
    except Exception:
        return False
    finally:
        store.close()


def _logged(text: str) -> Callable[[Path, Path], bool]:
    return lambda tmp, log: text in log.read_text(encoding="utf-8", errors="replace")


COMMANDS = {
    "worker": (["worker", "--poll", "0.2"], _worker_ready),
    "watch": (["watch", str(FEED), "--interval", "60"], _logged("first poll")),
    "serve": (["serve", "--port", "{port}"], _logged("Application startup complete")),
    "sandbox": (["sandbox", "--port", "{port}", "--quiet"], _logged("listening on")),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_long_running_command_stops_cleanly_on_sigterm(command: str, tmp_path: Path) -> None:
    args, ready = COMMANDS[command]
    port = str(free_port())
    argv = [a.replace("{port}", port) for a in args]
    env = child_env()
    env.update(ENV, DISTRIBUTOR_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}")
    log = tmp_path / "out.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", MAIN, "--config", str(CONFIG), *argv],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while not ready(tmp_path, log):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{command} never got ready: {log.read_text()}"
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    out = log.read_text()
    assert proc.returncode == 0, out
    assert "SIGTERM: " in out and "(send it again to exit now)" in out
    assert "Traceback" not in out


def test_only_the_helper_installs_signal_handlers() -> None:
    """One behaviour stays one: no command grows its own SIGTERM handling again."""
    own = [
        str(path.relative_to(REPO))
        for path in (REPO / "distributor").rglob("*.py")
        if path.name != "signals.py" and "signal.signal(" in path.read_text(encoding="utf-8")
    ]
    assert own == []
