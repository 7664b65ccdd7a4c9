"""`distributor log/show/audit` and the action commands, in-process through `main`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from review_helpers import URL, finish, plan, run, write_config

from distributor.review import FIELDS
from distributor.store import open_store
from distributor.store.models import Delivery, State
from distributor.store.store import Store


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'log.db'}"


@pytest.fixture
def config(tmp_path: Path, db: str) -> str:
    """A config whose sandbox URL refuses connections (a delete there fails: NotSent)."""
    return str(write_config(tmp_path, db))


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = open_store(db)
    yield s
    s.close()


def ids(deliveries: list[Delivery]) -> list[int]:
    return [d.id for d in deliveries]


def test_log_json_is_newest_first_with_stable_fields(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    first = ids(plan(store, "masto", "sky"))
    later = ids(plan(store, "tg", url="https://news.example/b/2"))
    code, out, err = run(capsys, "log", "--database", db, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["delivery_id"] for r in rows] == [*later, *reversed(first)]
    assert all(tuple(r) == FIELDS for r in rows)
    assert rows[0]["text"] == "Post [b]tg[/b]" and rows[0]["state"] == "queued"
    assert rows[0]["created_at"].endswith("Z")


def test_log_filters_combine(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    plan(store, "masto", "sky", "tg")
    finish(store, "failed", error="422 text too long")
    plan(store, "masto", "sky", url="https://news.example/b/2")
    args = ["log", "--database", db, "--json", "--status", "failed", "--channel", "masto"]
    code, out, _ = run(capsys, *args, "--channel", "sky")
    assert {(r["channel"], r["state"]) for r in json.loads(out)} == {
        ("masto", "failed"),
        ("sky", "failed"),
    }
    assert all(r["error"] == "422 text too long" for r in json.loads(out))
    code, out, _ = run(capsys, "log", "--database", db, "--json", "--article", "g-2")
    assert sorted(r["channel"] for r in json.loads(out)) == ["masto", "sky"]
    code, out, _ = run(capsys, "log", "--database", db, "--json", "--limit", "2")
    assert len(json.loads(out)) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    code, out, _ = run(capsys, "log", "--database", db, "--json", "--since", future)
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "log", "--database", db, "--json", "--since", "1h")
    assert len(json.loads(out)) == 5


def test_log_csv_and_table(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    plan(store, "masto", "sky")
    code, out, _ = run(capsys, "log", "--database", db, "--csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and tuple(parsed[0]) == FIELDS
    assert [r["channel"] for r in parsed] == ["sky", "masto"] and parsed[0]["remote_id"] == ""
    code, out, _ = run(capsys, "log", "--database", db)
    assert code == 0 and "Post [b]sky[/b]" in out and "queued" in out  # markup shown as text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["log", "--status", "bogus"], "--status 'bogus': not a state"),
        (["log", "--since", "yesterday"], "--since 'yesterday'"),
        (["log", "--json", "--csv"], "choose one"),
        (["log", "--article", "https://nowhere.example/x"], "no article"),
        (["show", "abc"], "delivery id 'abc': expected a number"),
        (["show", "999"], "no delivery with id 999"),
        (["retry", "999"], "no delivery with id 999"),
        (["retry"], "give a delivery ID or --failed"),
        (["approve", "x1"], "delivery id 'x1'"),
        (["cancel", "0"], "delivery id '0'"),
        (["audit", "--stuck-after", "soon"], "--stuck-after: not a duration"),
        (["retract", "nope", "--yes"], "no article 'nope'"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], store: Store, db: str, argv: list[str], message: str
) -> None:
    plan(store, "masto")
    code, out, err = run(capsys, *argv, "--database", db)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err


def test_show_has_attempts_and_events(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    [d] = ids(plan(store, "masto"))
    finish(store, "unknown")
    code, out, _ = run(capsys, "show", str(d), "--database", db, "--json")
    data = json.loads(out)
    assert code == 0 and data["state"] == "unknown" and data["title"] == "Story"
    assert [(a["n"], a["outcome"], a["error_kind"]) for a in data["history"]] == [
        (1, "unknown", "MaybeSent")
    ]
    assert data["events"][0]["action"] == "planned" and data["draft"]["text"] == "Post [b]masto[/b]"
    code, out, _ = run(capsys, "show", f"#{d}", "--database", db)
    assert code == 0 and "attempts" in out and "MaybeSent" in out and "[b]masto[/b]" in out


def test_audit_lists_open_deliveries_and_exits_1_on_unknown(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    plan(store, "masto", "sky", "tg")
    finish(store, "sent")
    code, out, _ = run(capsys, "audit", "--database", db, "--json")
    assert code == 0 and json.loads(out)["open"] == 0
    [u] = ids(plan(store, "masto", url="https://news.example/b/2"))
    [r] = ids(plan(store, "sky", review=True, url="https://news.example/b/2"))
    finish(store, "unknown")
    code, out, _ = run(capsys, "audit", "--database", db, "--json")
    data = json.loads(out)
    assert code == 1 and data["attention"] == 1 and data["paused"] is False
    assert [(i["delivery_id"], i["state"]) for i in data["deliveries"]] == [
        (u, "unknown"),
        (r, "awaiting_review"),
    ]
    assert "retry --force" in data["deliveries"][0]["attention"]
    assert data["deliveries"][1]["attention"] is None and data["deliveries"][1]["age_seconds"] >= 0
    code, out, _ = run(capsys, "audit", "--database", db)
    assert code == 1 and "1 need attention" in out


def test_audit_flags_overdue_queue(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    plan(store, "masto")
    code, _, _ = run(capsys, "audit", "--database", db, "--json")
    assert code == 0
    code, out, _ = run(capsys, "audit", "--database", db, "--json", "--stuck-after", "0s")
    assert code == 1 and "overdue since" in json.loads(out)["deliveries"][0]["attention"]


def test_approve_with_text_and_cancel(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    [a, b] = ids(plan(store, "masto", "sky", review=True))
    code, out, _ = run(capsys, "approve", str(a), "--text", "Neu", "--as", "anna", "--database", db)
    assert code == 0 and out == f"delivery {a} (masto): awaiting_review -> queued (text edited)\n"
    assert store.get(a).draft["text"] == "Neu"
    code, _, err = run(capsys, "approve", str(b), "--text", "x" * 301, "--database", db)
    assert code == 2 and "too long for bluesky: 301/300" in err
    code, out, _ = run(capsys, "cancel", str(b), "--as", "ben", "--database", db)
    assert code == 0 and store.get(b).state is State.CANCELLED
    assert store.events(delivery_id=b)[0]["actor"] == "ben"
    code, _, err = run(capsys, "cancel", str(b), "--database", db)
    assert code == 2 and "already final" in err


def test_retry_force_rule(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    [m] = ids(plan(store, "masto"))
    finish(store, "unknown")
    code, _, err = run(capsys, "retry", str(m), "--database", db)
    assert code == 2 and "may have been posted" in err and "--force" in err
    assert store.get(m).state is State.UNKNOWN
    code, out, _ = run(capsys, "retry", str(m), "--force", "--as", "cleo", "--database", db)
    assert code == 0 and "unknown -> queued" in out
    finish(store, "sent")
    code, _, err = run(capsys, "retry", str(m), "--force", "--database", db)
    assert code == 2 and "was posted" in err


def test_retry_failed(capsys: pytest.CaptureFixture[str], store: Store, db: str) -> None:
    plan(store, "masto", "sky")
    finish(store, "failed", error="boom")
    code, out, _ = run(capsys, "retry", "--failed", "--database", db)
    assert code == 0 and out.endswith("2 failed deliveries queued again\n")
    assert store.counts_by_state()["queued"] == 2


def test_pause_makes_claim_return_nothing(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    plan(store, "masto")
    code, out, _ = run(capsys, "pause", "--as", "dana", "--database", db)
    assert code == 0 and out == "queue paused by dana\n"
    assert store.claim("w9", lease_seconds=30) == []
    code, out, _ = run(capsys, "resume", "--database", db)
    assert code == 0 and out.startswith("queue resumed by ")
    assert len(store.claim("w9", lease_seconds=30)) == 1


def test_retract_failed_delete_exits_4_and_cancels_pending(
    capsys: pytest.CaptureFixture[str], store: Store, config: str
) -> None:
    [m] = ids(plan(store, "masto"))
    finish(store, "sent")
    [t] = ids(plan(store, "tg"))
    code, out, err = run(capsys, "retract", URL, "--config", config, "--yes", "--json")
    assert code == 4, err
    got = {r["channel"]: r for r in json.loads(out)}
    assert got["masto"]["outcome"] == "failed" and "mastodon/masto" in got["masto"]["detail"]
    assert got["tg"]["outcome"] == "cancelled"
    assert store.get(m).state is State.SENT and store.get(t).state is State.CANCELLED


def test_retract_asks_first(
    capsys: pytest.CaptureFixture[str],
    store: Store,
    config: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [m] = ids(plan(store, "masto"))
    finish(store, "sent")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out, err = run(capsys, "retract", URL, "--config", config)
    assert code == 130 and "Delete 1 post(s)" in err and "https://p/" in out
    assert store.get(m).state is State.SENT


@pytest.mark.parametrize("argv", [["log"], ["show", "1"], ["audit"], ["status"], ["retry", "1"]])
def test_a_missing_post_log_is_an_error_not_a_new_empty_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    from distributor.cli import main

    monkeypatch.chdir(tmp_path)
    db = tmp_path / "nowhere.db"
    try:
        code = int(main([*argv, "--database", f"sqlite:///{db}"]) or 0)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"no post log at {db}" in err
    assert not db.exists()


def test_log_reads_sqlite_without_sqlalchemy(store: Store, db: str, tmp_path: Path) -> None:
    """`log` on an SQLite store at the current schema skips SQLAlchemy's imports (half of its
    start-up); with --article (found through the store) it opens the Store as before."""
    import subprocess
    import sys

    plan(store, "masto", "sky")
    probe = (
        "import sys; from distributor.cli import main\n"
        "try: main(sys.argv[1:])\n"
        "except SystemExit: pass\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)"
    )
    args = [sys.executable, "-c", probe, "log", "--database", db, "--json"]
    fast = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)
    full = subprocess.run([*args, "--article", URL], capture_output=True, text=True, cwd=tmp_path)
    assert fast.stderr.strip().splitlines()[-1] == "False", fast.stderr
    assert full.stderr.strip().splitlines()[-1] == "True", full.stderr
    assert json.loads(fast.stdout) == json.loads(full.stdout) and len(json.loads(fast.stdout)) == 2
