"""Issue 13 finding 13: what the CLI prints from the post log is data from outside (article
text, platform errors): control characters must not reach the terminal raw, and `log --csv`
cells must not start a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_helpers import finish, run

from distributor.article import Article
from distributor.cli.escape import csv_cell, terminal_safe
from distributor.store import open_store
from distributor.store.models import PlanItem
from distributor.store.store import Store

# set the window title, clear the screen, an 8-bit CSI, a right-to-left override, a bell
HOSTILE = "Rat\x1b]0;pwned\x07 tagt\x1b[2J\x9b31m \u202eevil\u202c\r\x08 ok"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r", "\x08")


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'log.db'}"


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = open_store(db)
    yield s
    s.close()


def plan_text(store: Store, text: str, channel: str = "masto") -> int:
    item = PlanItem(
        channel=channel,
        platform="mastodon",
        account_key=f"acct-{channel}",
        draft={"channel": channel, "text": text, "limit": 0},
        idem_key=f"key-{channel}-{text[:8]}",
    )
    art = Article(url=f"https://news.example/{abs(hash(text))}", title="Story")
    return store.plan(art, [item], source="test").created[0].id


def assert_no_raw_controls(output: str) -> None:
    for char in RAW:
        assert char not in output, repr(char)


def test_show_and_log_escape_control_characters(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    did = plan_text(store, HOSTILE)
    finish(store, "failed", error="platform says: " + HOSTILE)
    for argv in (("show", str(did)), ("log",), ("audit",), ("log", "--csv")):
        code, out, err = run(capsys, *argv, "--database", db)
        assert code in (0, 1), err
        assert_no_raw_controls(out + err)
    code, out, _ = run(capsys, "show", str(did), "--database", db)
    assert "\\x1b]0;pwned" in out and "\\u202e" in out  # shown, visibly, not executed
    for argv in (("show", str(did), "--json"), ("log", "--json")):
        code, out, _ = run(capsys, *argv, "--database", db)
        assert_no_raw_controls(out)
        data = json.loads(out)
        assert (data[0] if isinstance(data, list) else data)["text"] == HOSTILE  # exact


def test_errors_on_stderr_are_escaped(
    capsys: pytest.CaptureFixture[str], store: Store, db: str
) -> None:
    code, _, err = run(capsys, "show", "1\x1b[2J", "--database", db)
    assert code != 0 and "\\x1b[2J" in err
    assert_no_raw_controls(err)


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_log_csv_cells_never_start_a_formula(
    capsys: pytest.CaptureFixture[str], store: Store, db: str, text: str
) -> None:
    plan_text(store, text)
    code, out, err = run(capsys, "log", "--csv", "--database", db)
    assert code == 0, err
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["text"].startswith("'"), row["text"]
    assert row["text"][1:] == terminal_safe(text)
    assert row["delivery_id"].isdigit()  # numbers stay numbers


def test_helpers_leave_ordinary_text_alone() -> None:
    text = "Ländergipfel: 3 % mehr — «Zitat» 🇩🇪\nzweite Zeile\tmit Tab"
    assert terminal_safe(text) == text
    assert csv_cell(text) == text and csv_cell(7) == 7 and csv_cell(None) is None
    assert csv_cell("a=b") == "a=b"
