"""`--json` on approve, retry, cancel, pause and resume: `log --json`'s fields plus what was
done (action, before, by); errors stay one line on stderr with exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_helpers import finish, plan, run

from distributor.review import FIELDS
from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'log.db'}"


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = open_store(db)
    yield s
    s.close()


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def test_approve_and_cancel_json(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    a, b = (d.id for d in plan(store, "masto", "sky", review=True))
    got = _json(capsys, "approve", str(a), "--text", "Neu", "--as", "anna", "--database", db)
    assert isinstance(got, dict) and set(FIELDS) <= set(got)
    assert got["action"] == "approve" and got["before"] == "awaiting_review"
    assert (got["by"], got["delivery_id"], got["state"], got["edited"]) == (
        "anna",
        a,
        "queued",
        True,
    )
    assert got["text"] == "Neu" == store.get(a).draft["text"]
    got = _json(capsys, "cancel", str(b), "--as", "ben", "--database", db)
    assert isinstance(got, dict)
    assert (got["action"], got["before"], got["state"]) == (
        "cancel",
        "awaiting_review",
        "cancelled",
    )
    code, out, err = run(capsys, "cancel", str(b), "--json", "--database", db)
    assert (code, out) == (2, "") and "already final" in err


def test_retry_json_one_and_failed(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    [m] = plan(store, "masto")
    finish(store, "unknown")
    got = _json(capsys, "retry", str(m.id), "--force", "--as", "cleo", "--database", db)
    assert isinstance(got, dict)
    assert (got["action"], got["before"], got["state"]) == ("retry", "unknown", "queued")
    finish(store, "failed", error="boom")
    plan(store, "sky")
    finish(store, "failed", error="boom")
    got = _json(capsys, "retry", "--failed", "--database", db)
    assert isinstance(got, list) and len(got) == 2
    assert {(g["before"], g["state"]) for g in got} == {("failed", "queued")}
    assert store.counts_by_state()["queued"] == 2


def test_pause_and_resume_json(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    plan(store, "masto")
    paused = {"action": "pause", "by": "dana", "paused": True, "changed": True}
    assert _json(capsys, "pause", "--as", "dana", "--database", db) == paused
    again = _json(capsys, "pause", "--as", "dana", "--database", db)
    assert again == {**paused, "changed": False}
    assert store.claim("w9", lease_seconds=30) == []
    resumed = _json(capsys, "resume", "--as", "eve", "--database", db)
    assert resumed == {"action": "resume", "by": "eve", "paused": False, "changed": True}
    assert store.get(store.claim("w9", lease_seconds=30)[0].delivery.id).state is State.CLAIMED
