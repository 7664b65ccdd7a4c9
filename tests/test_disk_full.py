"""Issue 13 finding 12: a full disk is one line and exit 3 (the store failed) from `publish`
and `worker`, with nothing half-written, not a traceback and exit 1.

The first test fills a real, tiny tmpfs (root only: CI runs as root); the second makes SQLite
itself run out of room (`PRAGMA max_page_count`: the same SQLITE_FULL), which works anywhere.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_helpers import run, write_config

from distributor.store import engine as store_engine
from distributor.store import open_store

CLI = str(Path(sys.executable).parent / "distributor")


def write_article(folder: Path, n: int, body: str = "") -> Path:
    path = folder / f"article-{n}.json"
    data = {"url": f"https://news.example/politik/voll-{n}", "title": f"Kein Platz {n}"}
    if body:
        data["body"] = body
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def counts(db_path: Path) -> tuple[int, int]:
    with sqlite3.connect(db_path) as conn:
        articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    return articles, deliveries


def assert_store_full(code: int, err: str) -> None:
    assert code == 3, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: store ") and "disk is full" in last, err


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    ballast = folder / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return ballast


def test_publish_and_worker_on_a_real_full_disk(tiny_disk: Path, tmp_path: Path) -> None:
    db_path = tiny_disk / "log.db"
    config = write_config(tmp_path, f"sqlite:///{db_path}")
    cli = [CLI, "--config", str(config)]

    def distributor(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *argv], capture_output=True, text=True, timeout=120)

    done = distributor("publish", str(write_article(tmp_path, 1)))
    assert done.returncode == 0, done.stderr
    ballast = fill(tiny_disk)
    done = distributor("worker", "--until-idle", "--no-reconcile")
    assert_store_full(done.returncode, done.stderr)
    done = distributor("publish", str(write_article(tmp_path, 2, "Absatz. " * 2000)))
    assert_store_full(done.returncode, done.stderr)
    ballast.unlink()
    assert counts(db_path) == (1, 3)  # the second article: nothing half-written
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        states = {r[0] for r in conn.execute("SELECT state FROM deliveries")}
    assert "sent" not in states  # nothing lost: all still to be sent or reconciled


def test_sqlite_full_is_a_store_error_anywhere(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db_path = tmp_path / "log.db"
    open_store(f"sqlite:///{db_path}").close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    hooks = store_engine._sqlite_hooks

    def full_hooks(engine: Any) -> None:  # the file may not grow any more
        from sqlalchemy import event

        hooks(engine)
        event.listen(engine, "connect", lambda c, _: c.execute(f"PRAGMA max_page_count={pages}"))

    monkeypatch.setattr(store_engine, "_sqlite_hooks", full_hooks)
    config = write_config(tmp_path, f"sqlite:///{db_path}")
    big = write_article(tmp_path, 1, "Ein langer Absatz. " * 3000)  # needs new pages
    code, _, err = run(capsys, "--config", str(config), "publish", str(big))
    assert_store_full(code, err)
    assert len(err.strip().splitlines()) == 1
    assert counts(db_path) == (0, 0)
