"""The chaos soak, short: worker processes under random faults and SIGKILLs, then the invariants
(at most one post per article and channel, nothing lost, every delivery final or `unknown` and
audited, integrity check clean). `make chaos MINUTES=5` runs the long version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from locations import REPO

SECONDS = "20"


def soak(tmp_path: Path, *backend: str) -> list[dict[str, object]]:
    out = tmp_path / "figures.json"
    cmd = [sys.executable, "-m", "chaos", "--seconds", SECONDS, "--json", str(out), *backend]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    figures: list[dict[str, object]] = json.loads(out.read_text())
    return figures


def assert_invariants(fig: dict[str, object]) -> None:
    assert fig["ok"] and fig["problems"] == [], fig["problems"]
    assert fig["duplicates"] == 0 and fig["lost"] == 0 and fig["integrity"] == []
    assert fig["audit_missing"] == 0
    unknown = fig["unknown"]
    assert isinstance(unknown, dict)
    assert all(reason.startswith("telegram: held") for reason in unknown), unknown
    # the run was really chaotic: workers died, and the faults of several kinds fired
    assert isinstance(fig["workers_killed"], int) and fig["workers_killed"] >= 2
    faults = fig["faults"]
    assert isinstance(faults, dict) and {"error", "rate_limit", "reset", "lost"} <= set(faults)
    states = fig["states"]
    assert isinstance(states, dict) and states.get("sent", 0) > 50
    assert set(states) <= {"sent", "unknown"}, states


def test_short_soak_on_sqlite(tmp_path: Path) -> None:
    [fig] = soak(tmp_path, "--sqlite-only")
    assert fig["backend"] == "sqlite"
    assert_invariants(fig)


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("DISTRIBUTOR_TEST_PG_URL"), reason="needs DISTRIBUTOR_TEST_PG_URL"
)
def test_short_soak_on_postgresql(tmp_path: Path) -> None:
    [fig] = soak(tmp_path, "--pg-only")
    assert fig["backend"] == "postgresql"
    assert_invariants(fig)
