"""Group commit (web/intake.py): requests planned together share one transaction, each is
answered only after it committed, and one that fails in the store fails alone."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hook_helpers import T0, article_body, hook_settings_for

from distributor.store import open_store
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.web.app import create_app
from distributor.web.intake import Intake

# Real store failures, chosen by the article's title: one while its statements run, one only
# at COMMIT (a deferred foreign key), so a request that reached the end of its statements
# still must not get its 202.
FAILURES = """
CREATE TABLE poison (article_id TEXT REFERENCES articles(id) DEFERRABLE INITIALLY DEFERRED);
CREATE TRIGGER fails_now BEFORE INSERT ON articles WHEN NEW.title = 'fails now'
BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;
CREATE TRIGGER fails_at_commit AFTER INSERT ON articles WHEN NEW.title = 'fails at commit'
BEGIN INSERT INTO poison VALUES ('no such article'); END;
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'd.db'}", clock=FakeClock(T0))
    yield s
    s.close()


@pytest.fixture
def intake(tmp_path: Path, store: Store) -> Intake:
    app = create_app(hook_settings_for(tmp_path), store=store, clock=FakeClock(T0))
    return Intake(app.state.web)


def _body(n: int, title: str | None = None) -> bytes:
    return article_body(url=f"https://news.example/story-{n}", title=title or f"Story {n}")


def _planned(store: Store) -> list[Any]:
    return store.query(limit=100)[0]


def _statements(store: Store) -> list[str]:
    """Every SQL statement SQLite runs for the store from now on (its trace callback)."""
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(store._engine, "checkout", lambda dbapi, *_: dbapi.set_trace_callback(seen.append))
    return seen


def test_requests_waiting_together_share_one_commit(intake: Intake, store: Store) -> None:
    statements = _statements(store)
    answers = intake.plan_together([(f"msg_{n}", _body(n)) for n in range(5)])
    assert [status for status, _ in answers] == [202] * 5
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    ids = sorted(i for _, answer in answers for i in answer["deliveries"])
    assert sorted(d.id for d in _planned(store)) == ids and len(ids) == 10
    for n, (_, answer) in enumerate(answers):
        assert store.webhook_response(f"msg_{n}") == answer


def test_one_request_failing_in_the_store_fails_alone(intake: Intake, store: Store) -> None:
    with store._engine.begin() as conn:
        for statement in FAILURES.split(";\n")[:-1]:
            conn.exec_driver_sql(statement)
    requests = [
        ("msg_ok1", _body(1)),
        ("msg_now", _body(2, "fails now")),
        ("msg_ok2", _body(3)),
        ("msg_commit", _body(4, "fails at commit")),
        ("msg_ok3", _body(5)),
    ]
    answers = dict(zip([m for m, _ in requests], intake.plan_together(requests), strict=True))
    for failed in ("msg_now", "msg_commit"):
        status, answer = answers[failed]
        assert status == 503 and "try again" in answer["detail"], answer
        assert store.webhook_response(failed) is None  # the id stays unused: a retry plans
    good = [answers[m] for m in ("msg_ok1", "msg_ok2", "msg_ok3")]
    assert [status for status, _ in good] == [202] * 3
    assert sorted(d.id for d in _planned(store)) == sorted(
        i for _, answer in good for i in answer["deliveries"]
    )
    assert {d.article_id for d in _planned(store)} == {a["article_id"] for _, a in good}


def test_a_replay_and_an_invalid_article_in_one_batch(intake: Intake, store: Store) -> None:
    body = _body(1)
    first, again, bad, other = intake.plan_together(
        [("msg_a", body), ("msg_a", _body(2)), ("msg_bad", b'{"title": "no url"}'), ("msg_b", body)]
    )
    assert first[0] == again[0] == other[0] == 202 and first[1] == again[1]
    assert other[1]["created"] == [] and other[1]["deliveries"] == first[1]["deliveries"]
    assert bad[0] == 422 and "url" in bad[1]["detail"]
    assert len(_planned(store)) == 2
    # a replayed id is answered again even when its body no longer is a valid article
    assert intake.plan_together([("msg_a", b"[]")]) == [(202, json.loads(json.dumps(first[1])))]


def test_an_idle_writer_ends_and_the_next_request_starts_one(tmp_path: Path, store: Store) -> None:
    """An app whose shutdown never runs (no lifespan) leaves no writer thread behind for long."""
    app = create_app(hook_settings_for(tmp_path), store=store, clock=FakeClock(T0))
    intake = Intake(app.state.web, idle_seconds=0.05)

    def writers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "webhook-writer"}

    others = writers()
    assert _submit(intake, "msg_1", 1)[0] == 202
    for _ in range(500):  # at most 10 s on a busy machine
        if not writers() - others:
            break
        time.sleep(0.02)
    assert not writers() - others
    assert _submit(intake, "msg_2", 2)[0] == 202
    assert len(_planned(store)) == 4


def _submit(intake: Intake, msg_id: str, n: int) -> Any:
    """`intake.submit` on an event loop of its own thread (like uvicorn's): asyncio.run here
    would fail when an earlier test in this process left a loop marked running."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, intake.submit(msg_id, _body(n))).result(timeout=60)
