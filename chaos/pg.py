"""A fresh PostgreSQL database for one soak: on `DISTRIBUTOR_TEST_PG_URL`'s server, or on a
private throw-away cluster (`.ci/postgres.sh` with its own folder) that is stopped afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".ci" / "postgres.sh"


@contextmanager
def server() -> Iterator[str]:
    """The server URL: the environment's, or a private cluster's for the duration."""
    url = os.environ.get("DISTRIBUTOR_TEST_PG_URL")
    if url:
        yield url
        return
    env = {**os.environ, "PGTEST_DIR": f"/tmp/distributor-chaos-pg-{os.getpid()}"}
    out = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"DISTRIBUTOR_TEST_PG_URL=(\S+)", out)
    if not found:
        raise RuntimeError(f".ci/postgres.sh start printed no URL: {out!r}")
    try:
        yield found.group(1)
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, check=False)


@contextmanager
def database(server_url: str) -> Iterator[str]:
    """A new, empty database on `server_url`, dropped afterwards."""
    import psycopg

    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
