"""The Bluesky session is kept in the store and shared: each process (here: each adapter built
as a process builds it, and real `distributor check` processes) reuses it instead of calling
createSession again (limited to 30 per 5 minutes per account); a kept session the PDS no longer
accepts is replaced once; the tokens appear in no output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from locations import child_env
from sandbox_helpers import SECRETS

import distributor.store
from distributor.config import Settings, load_config
from distributor.platforms import sessions
from distributor.platforms.base import Draft
from distributor.platforms.registry import build_adapter
from distributor.store import open_store

CHANNEL = "bluesky_main"


def settings_with_store(sandbox_settings: Settings, tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    open_store(url).close()  # the post log exists (publishing made it)
    assert sandbox_settings.path is not None
    env = {**SECRETS, "DISTRIBUTOR_DATABASE_URL": url}
    return load_config(sandbox_settings.path, environ=env)


def logins(sandbox: Any) -> int:
    return [r["route"] for r in sandbox.requests("bluesky")].count("session")


def draft(n: int) -> Draft:
    link = f"https://news.example.com/2026/04/meldung-{n}"
    return Draft(CHANNEL, "bluesky", f"a{n}", f"Meldung {n} {link}", link)


def test_processes_share_one_session(
    sandbox: Any, sandbox_settings: Settings, tmp_path: Path
) -> None:
    conf = settings_with_store(sandbox_settings, tmp_path)
    for n in range(3):  # three processes, one after the other
        build_adapter(conf.channel(CHANNEL), conf).publish(draft(n), key=f"k{n}")
    assert logins(sandbox) == 1
    assert len(sandbox.posts("bluesky")) == 3
    kept = open_store(conf.database_url)
    try:
        [session] = [kept.load_session(k) for k in _keys(kept)]
    finally:
        kept.close()
    assert session is not None and session["accessJwt"] and session["did"]


def test_the_store_is_opened_once_per_process_not_per_session_call(
    sandbox: Any, sandbox_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = settings_with_store(sandbox_settings, tmp_path)
    opened: list[str] = []

    def counting_open(url: str, **kw: Any) -> Any:
        opened.append(url)
        return open_store(url, **kw)

    monkeypatch.setattr(distributor.store, "open_store", counting_open)
    for n in range(4):  # each adapter reads the kept session; the first also keeps its own
        build_adapter(conf.channel(CHANNEL), conf).publish(draft(n), key=f"k{n}")
    assert len(sandbox.posts("bluesky")) == 4 and logins(sandbox) == 1
    assert opened == [conf.database_url]  # opened (and migrated) once, not once per call
    sessions.close_all()  # as at exit: the session outlives the process's store
    build_adapter(conf.channel(CHANNEL), conf).publish(draft(9), key="k9")
    assert logins(sandbox) == 1 and opened == [conf.database_url] * 2
    sessions.close_all()


def test_a_kept_session_the_server_refuses_is_replaced_once(
    sandbox: Any, sandbox_settings: Settings, tmp_path: Path
) -> None:
    conf = settings_with_store(sandbox_settings, tmp_path)
    build_adapter(conf.channel(CHANNEL), conf).verify()
    sandbox.state.kv["bluesky"]["tokens"].clear()  # the PDS forgot every session
    receipt = build_adapter(conf.channel(CHANNEL), conf).publish(draft(1), key="k1")
    assert receipt.remote_id and logins(sandbox) == 2
    build_adapter(conf.channel(CHANNEL), conf).verify()
    assert logins(sandbox) == 2  # the new session was kept


def test_check_processes_log_in_once_and_show_no_token(
    sandbox: Any, sandbox_settings: Settings, tmp_path: Path
) -> None:
    conf = settings_with_store(sandbox_settings, tmp_path)
    assert conf.path is not None
    env = child_env()
    env.update(SECRETS, DISTRIBUTOR_DATABASE_URL=conf.database_url)
    argv = ["--config", str(conf.path), "--log-level", "DEBUG", "check", "--channel", CHANNEL]
    runs = [
        subprocess.run(
            [sys.executable, "-c", "from distributor.cli import main; main()", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert logins(sandbox) == 1
    kept = open_store(conf.database_url)
    try:
        session = kept.load_session(_keys(kept)[0])
    finally:
        kept.close()
    assert session is not None
    for run in runs:
        for token in (session["accessJwt"], session["refreshJwt"], SECRETS["BLUESKY_APP_PASSWORD"]):
            assert token not in run.stdout + run.stderr


def _keys(store: Any) -> list[str]:
    import sqlalchemy as sa

    t = store._t["sessions"]
    with store._engine.connect() as conn:
        return [r.key for r in conn.execute(sa.select(t.c.key))]
