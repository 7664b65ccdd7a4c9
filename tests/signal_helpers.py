"""Signalling a child process twice, for the "a second signal exits at once" tests.

Two signals sent a fixed time apart can reach a busy process as one (a pending signal is not
queued twice, and Python runs its handler once for both), so on a loaded machine the second
one went missing. `signal_twice` sends the second only after the process logged that it
handled the first (distributor.signals: "... (send it again to exit now)").
"""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import IO

import pytest

HANDLED = "(send it again to exit now)"


def _drain(stream: IO[str] | None, into: list[str], seen: threading.Event | None) -> None:
    if stream is None:
        return
    for line in stream:
        into.append(line)
        if seen is not None and HANDLED in line:
            seen.set()


def signal_twice(
    proc: subprocess.Popen[str],
    first: signal.Signals = signal.SIGTERM,
    second: signal.Signals = signal.SIGTERM,
    timeout: float = 30.0,
) -> tuple[str, str]:
    """Send `first`, wait until the process says it is stopping, send `second`; the process's
    (stdout, stderr) once it exited (`timeout` bounds each wait: a hang guard)."""
    out: list[str] = []
    err: list[str] = []
    handled = threading.Event()
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out, None), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err, handled), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        proc.send_signal(first)
        if not handled.wait(timeout):
            pytest.fail(f"the first {first.name} was not handled: {''.join(err)}")
        proc.send_signal(second)
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(timeout)
    return "".join(out), "".join(err)
