"""`publish --wait` against a platform that is not running: it honours --timeout, says so in
one line (not a warning per try), and exits 7 because nothing was sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import run, write_config

# Without the deadline, one claim alone would retry for up to a minute.
SLOW_RETRIES = "\n[dispatch]\nattempts = 20\ngive_up_after = 100\nbudget = 60\nmax_backoff = 4\n"
ARTICLE = {
    "url": "https://news.example/politik/wait-1",
    "title": "Stadtrat beschließt neue Radbrücke",
    "body": "Der Stadtrat hat am Dienstag den Bau einer neuen Radbrücke beschlossen.",
    "language": "de",
}


@pytest.fixture
def config(in_tmp: Path) -> Path:
    path = write_config(in_tmp, f"sqlite:///{in_tmp / 'log.db'}")
    path.write_text(path.read_text(encoding="utf-8") + SLOW_RETRIES, encoding="utf-8")
    (in_tmp / "a.json").write_text(json.dumps(ARTICLE), encoding="utf-8")
    return path


def test_wait_honours_timeout_and_says_unreachable_once(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--config", str(config), "publish", "a.json", "--wait", "--timeout", "2"
    )
    assert code == 7  # pending when the timeout ended the wait: retries were not exhausted
    assert "retrying in" not in err and err.count("\n") == 1
    assert err.startswith("error: platform unreachable: the sandbox at http://127.0.0.1:")
    assert "3 of 3 deliveries (masto, sky, tg) are retry_wait" in err
    assert "retry_wait" in out  # the outcome table still gives each reason


def test_wait_json_reports_pending_and_exits_7(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["publish", "a.json", "--wait", "--timeout", "1", "--json", "--channel", "masto"]
    code, out, err = run(capsys, "--config", str(config), *argv)
    assert code == 7 and "platform unreachable" in err
    outcomes = json.loads(out)["outcomes"]
    assert [o["state"] for o in outcomes] == ["retry_wait"]


def test_log_level_brings_the_retry_lines_back(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["publish", "a.json", "--wait", "--timeout", "3", "--channel", "masto"]
    code, _, err = run(capsys, "--config", str(config), "--log-level", "warning", *argv)
    assert code == 7 and "retrying in" in err
