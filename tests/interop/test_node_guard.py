"""The PDS's own loopback guard catches what the PDS tries beyond loopback (node side).

Provoked safely: a PDS is started inside a fresh network namespace that has nothing but
loopback (`unshare -n`), and asked to resolve a handle on another host (a DNS TXT query, then
HTTPS to that host). The guard must refuse both and log them in `nonloopback.log`, which every
other interop test requires to stay empty.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from locations import REPO
from pds import MISSING, installed

pytestmark = pytest.mark.interop

CHILD = """
import subprocess, sys
sys.path[:0] = ["tests/interop", "tests"]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
from pds import start
server = start()
try:
    answer = server.xrpc("GET", "com.atproto.identity.resolveHandle",
                         params={"handle": "bsky.app"})
    print(answer.status_code)
    print(server.violations())
finally:
    server.stop()
"""


def test_the_node_guard_refuses_and_logs_outside_hosts() -> None:
    if not installed():
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root, unshare and ip for an isolated network namespace")
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", CHILD],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status, _, log = done.stdout.partition("\n")
    assert status == "400"  # "Unable to resolve handle": nothing got through
    assert "dns resolveTxt _atproto.bsky.app" in log
    assert "connect bsky.app:443" in log
