"""`publish --at`, `reschedule`, `hold`, `release`, `scheduled` and the times in `log`/`show`,
in-process through `main`, on a config with a newsroom time zone, quiet hours and spacing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import closed_port, run

CONFIG = """
[distributor]
sandbox = "http://127.0.0.1:{port}"
database = "sqlite:///{db}"
timezone = "Europe/Berlin"
[channels.m]
platform = "mastodon"
access_token_env = "T"
quiet = "23:00-06:30"
min_gap = "10min"
"""


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(port=closed_port(), db=tmp_path / "d.db"), encoding="utf-8")
    for n, extra in ((1, ', "embargo_until": "2030-06-10 08:00"'), (2, ""), (3, "")):
        body = (
            f'{{"url": "https://news.example/{n}", "title": "Story {n}", "body": "Text."{extra}}}'
        )
        (tmp_path / f"{n}.json").write_text(body, encoding="utf-8")
    return str(path)


def test_publish_at_reschedule_hold_release(
    capsys: pytest.CaptureFixture[str], cfg: str, tmp_path: Path
) -> None:
    a = lambda n: str(tmp_path / f"{n}.json")  # noqa: E731
    code, out, _ = run(capsys, "-c", cfg, "publish", a(1))
    assert code == 0 and "goes at 2030-06-10T06:00:00Z" in out  # 08:00 CEST, the embargo
    code, out, _ = run(capsys, "-c", cfg, "publish", a(2), "--at", "2030-01-05 02:00")
    assert code == 0 and "goes at 2030-01-05T05:30:00Z" in out  # quiet until 06:30 CET
    code, out, err = run(capsys, "-c", cfg, "publish", a(3), "--at", "2030-03-31 02:30")
    assert code == 2 and "does not exist in Europe/Berlin" in err and "planned" not in out
    code, _, err = run(capsys, "-c", cfg, "publish", a(3), "--at", "soon")
    assert code == 2 and err.startswith("error: --at: not a date and time: 'soon'")

    code, _, err = run(
        capsys, "-c", cfg, "reschedule", "https://news.example/1", "--at", "2030-06-09 12:00"
    )
    assert code == 2 and "under embargo until 2030-06-10T06:00:00" in err
    code, out, _ = run(
        capsys, "-c", cfg, "reschedule", "2", "--at", "2030-01-04T12:00+00:00", "--json"
    )
    assert code == 0 and json.loads(out)[0]["goes_at"] == "2030-01-04T12:00:00Z"
    code, out, _ = run(capsys, "-c", cfg, "hold", "2")
    assert code == 0 and "held" in out
    code, out, _ = run(capsys, "-c", cfg, "log", "--json")
    rows = {r["delivery_id"]: r for r in json.loads(out)}
    assert rows[2]["held"] is True and rows[1]["goes_at"] == "2030-06-10T06:00:00Z"
    code, out, _ = run(capsys, "-c", cfg, "scheduled", "--json")
    view = json.loads(out)["m"]
    assert [(u["delivery_id"], u["note"]) for u in view] == [(1, ""), (2, "held")]
    code, out, _ = run(capsys, "-c", cfg, "release", "https://news.example/2")
    assert code == 0 and "released, goes at 2030-01-04T12:00:00Z" in out
    code, _, err = run(capsys, "-c", cfg, "release", "2")
    assert code == 2 and "nothing is held" in err
    code, out, _ = run(capsys, "-c", cfg, "show", "1")
    assert "embargo_until 2030-06-10T06:00:00Z" in out and "goes_at" in out
    code, out, _ = run(capsys, "-c", cfg, "scheduled")
    assert code == 0 and "2030-01-04 12:00" in out
    code, _, err = run(capsys, "-c", cfg, "hold", "99")
    assert code == 2 and "no delivery with id 99" in err
    code, _, err = run(capsys, "-c", cfg, "reschedule", "2")
    assert code == 2 and "give --at TIME" in err


def test_scheduled_view_spreads_a_burst_by_min_gap(
    capsys: pytest.CaptureFixture[str], cfg: str, tmp_path: Path
) -> None:
    for n in (2, 3):
        run(capsys, "-c", cfg, "publish", str(tmp_path / f"{n}.json"), "--at", "2030-01-04 12:00")
    _, out, _ = run(capsys, "-c", cfg, "scheduled", "--json")
    times = [u["goes_at"] for u in json.loads(out)["m"]]
    assert times == ["2030-01-04T11:00:00Z", "2030-01-04T11:10:00Z"]
