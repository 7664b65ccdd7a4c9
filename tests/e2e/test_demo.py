"""`distributor demo` (what `make demo` runs): the whole pipeline on the embedded defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distributor.cli import main
from distributor.platform import BUILTIN

PLATFORMS = len(BUILTIN)  # one example channel per platform
ARTICLES = 4  # two sample articles and the two items of the sample feed


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = int(main(list(argv)) or 0)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_publishes_everything_once_and_a_rerun_posts_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISTRIBUTOR_CONFIG", raising=False)
    monkeypatch.delenv("DISTRIBUTOR_DATABASE_URL", raising=False)
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert f"The sandbox received {PLATFORMS * ARTICLES} posts in this run." in out
    assert "Stadtrat gibt grünes Licht" in out and "heat-pump grants" in out
    assert "Try next" in out and "distributor log" in out
    assert (tmp_path / "distributor.db").exists()

    code, out, err = run(capsys, "log", "--json", "--limit", "0")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == PLATFORMS * ARTICLES
    assert {r["state"] for r in rows} == {"sent"} and all(r["remote_url"] for r in rows)
    assert len({(r["article_id"], r["channel"]) for r in rows}) == len(rows)

    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "The sandbox received 0 posts in this run." in out
    assert "already known on x-news" in out and "planned x-news" not in out
