"""`distributor backup`: an online copy of the SQLite store taken while another thread keeps
writing, restored to a new place and opened (integrity check clean, rows present)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from click.testing import CliRunner

from distributor.article import Article
from distributor.backup import backup_sqlite
from distributor.cli import cli
from distributor.errors import ConfigError, StoreError
from distributor.store import open_store
from distributor.store.models import PlanItem


def _writer(url: str, stop: threading.Event, written: list[int]) -> None:
    """What a busy publisher and worker do: plan articles and heartbeat, as fast as it can."""
    store = open_store(url)
    try:
        while not stop.is_set():
            n = len(written)
            art = Article(url=f"https://news.example/b/{n}", title=f"Story {n}")
            item = PlanItem("masto", "mastodon", "acct", {"text": f"post {n}"}, f"key-{n}")
            store.plan(art, [item])
            store.heartbeat("writer")
            written.append(n)
    finally:
        store.close()


def test_backup_while_writing_restores_and_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    open_store(url).close()
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(url, stop, written))
    thread.start()
    try:
        while len(written) < 50:  # the store has rows and is being written to
            threading.Event().wait(0.01)
        before = len(written)
        result = backup_sqlite(url, str(tmp_path / "copy.db"))
        during = len(written)
    finally:
        stop.set()
        thread.join(30)
    assert during > before or len(written) > during  # writes went on around the backup
    restored = tmp_path / "restore" / "distributor.db"
    restored.parent.mkdir()
    shutil.copy(result.path, restored)
    assert not Path(f"{result.path}-wal").exists()  # one self-contained file
    store = open_store(f"sqlite:///{restored}")
    try:
        assert store.integrity_check() == []
        count = store.counts_by_state()["queued"]
        assert before <= count <= len(written) and count == result.deliveries
        assert store.get(1).draft["text"] == "post 0"
        # the restored copy is a working store: it takes new deliveries
        art = Article(url="https://news.example/after-restore", title="After")
        store.plan(art, [PlanItem("masto", "mastodon", "acct", {"text": "x"}, "after")])
        assert store.counts_by_state()["queued"] == count + 1
    finally:
        store.close()


def test_backup_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    open_store(url).close()
    run = CliRunner()
    folder = tmp_path / "backups"
    folder.mkdir()
    done = run.invoke(cli, ["backup", str(folder), "--database", url])
    assert done.exit_code == 0, done.output
    [made] = list(folder.iterdir())
    assert made.name.startswith("distributor-") and f"backup written to {made}" in done.output
    again = run.invoke(cli, ["backup", str(made), "--database", url])
    assert isinstance(again.exception, ConfigError)  # `distributor` exits 2 with this line
    assert "file exists (use --force" in str(again.exception)
    assert run.invoke(cli, ["backup", str(made), "--database", url, "--force"]).exit_code == 0
    assert list(folder.iterdir()) == [made]  # no partial file left behind
    missing = run.invoke(cli, ["backup", str(made), "--database", "sqlite:////nonexistent/x.db"])
    assert isinstance(missing.exception, StoreError)  # exit 3
    assert "no such database file" in str(missing.exception)


def test_postgres_store_gets_the_pg_dump_line(tmp_path: Path) -> None:
    pg = "postgresql://distributor:pw-SECRET-42@db.internal:5432/distributor"
    out = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.dump"), "--database", pg])
    assert out.exit_code == 2
    assert "pg_dump --format=custom --file" in out.output
    assert "postgresql://distributor@db.internal:5432/distributor" in out.output
    assert "pw-SECRET-42" not in out.output
