"""A private PostgreSQL cluster on 127.0.0.1 for one benchmark run (as `.ci/postgres.sh` starts).

`DISTRIBUTOR_BENCH_PG_URL` names an existing server instead (its database must be empty or
disposable). Unlike the test cluster, fsync stays on: the benchmark compares durable stores.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.getuid() == 0 else argv


@contextmanager
def postgres_url(work: Path) -> Iterator[tuple[str | None, str]]:
    """(URL of a fresh database, "") or (None, why there is none)."""
    given = os.environ.get("DISTRIBUTOR_BENCH_PG_URL")
    if given:
        yield given, "DISTRIBUTOR_BENCH_PG_URL"
        return
    bindir = _bindir()
    if bindir is None:
        yield None, "no PostgreSQL server binaries (initdb) on this machine"
        return
    data = Path(f"/tmp/distributor-bench-pg-{uuid.uuid4().hex[:8]}")
    data.mkdir()
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    f"{data}/d",
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                ]
            ),
            **run,
        )  # type: ignore[call-overload]
        # synchronous_commit=off gives what SQLite WAL with synchronous=NORMAL (the store's
        # setting) gives: crash-safe, the last commits may be lost on power loss; fsync stays on.
        opts = f"-h 127.0.0.1 -p {port} -k {data} -c max_connections=200"
        opts += " -c synchronous_commit=off"
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    f"{data}/d",
                    "-l",
                    f"{data}/log",
                    "-w",
                    "-o",
                    opts,
                    "start",
                ]
            ),
            **run,
        )  # type: ignore[call-overload]
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "bench",
                ]
            ),
            **run,
        )  # type: ignore[call-overload]
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(data, ignore_errors=True)
        yield None, f"could not start PostgreSQL: {exc}"
        return
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/bench", f"private cluster, {bindir}"
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", f"{data}/d", "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(data, ignore_errors=True)
