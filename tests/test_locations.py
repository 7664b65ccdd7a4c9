"""The rule for outside test data: found in place, skipped by reason when absent, failed under CI,
and never copied into the repository."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from locations import FIXTURE_DATA, REFERENCE_DATA, REPO, DataRoot, reference_params

ROOT = DataRoot("reference data", "TEST_DATA_DIR", Path("/nonexistent/shared/reference"))


def test_found_through_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "twitter-text").mkdir()
    (tmp_path / "twitter-text" / "a.yml").write_text("x")
    monkeypatch.setenv("TEST_DATA_DIR", str(tmp_path))
    assert ROOT.locate("twitter-text", "a.yml") == tmp_path / "twitter-text" / "a.yml"


def test_default_is_the_shared_folder_beside_the_repository(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISTRIBUTOR_REFERENCE_DIR", raising=False)
    monkeypatch.delenv("DISTRIBUTOR_FIXTURES_DIR", raising=False)
    assert REFERENCE_DATA.root == REPO.parent / "shared" / "reference"
    assert FIXTURE_DATA.root == REPO.parent / "shared" / "fixtures"


def test_absent_folder_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        ROOT.locate("twitter-text", "a.yml")
    assert str(info.value.msg) == (
        "reference data not found at /nonexistent/shared/reference: set TEST_DATA_DIR"
    )


def test_absent_folder_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DATA_DIR", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"not found at /nonexistent.*CI=true"):
        ROOT.locate("twitter-text", "a.yml")


def test_missing_file_in_a_present_folder_always_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"reference data x/y\.json is missing from"):
        ROOT.locate("x", "y.json")


def test_params_become_one_skipped_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISTRIBUTOR_REFERENCE_DIR", "/nonexistent/ref")
    monkeypatch.delenv("CI", raising=False)
    [param] = reference_params(("a.json",), lambda path: [path], width=2)
    assert param.values == (None, None) and param.id == "no-reference-data"
    [mark] = param.marks
    assert mark.name == "skip" and "not found at /nonexistent/ref" in mark.kwargs["reason"]
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        reference_params(("a.json",), lambda path: [path])


def test_a_suite_run_without_the_data_skips_and_under_ci_fails(tmp_path: Path) -> None:
    """The whole path: pytest on a test reading reference data, with the folder absent."""
    shutil.copy(REPO / "tests" / "locations.py", tmp_path)
    (tmp_path / "test_needs_data.py").write_text(
        "from locations import reference\n\n"
        "def test_reads() -> None:\n"
        "    assert reference('twitter-text', 'config_v3.json').read_text()\n",
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "DISTRIBUTOR_REFERENCE_DIR": str(tmp_path / "absent"),
    }

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(tmp_path)]
        return subprocess.run(
            argv, cwd=tmp_path, env={**env, **extra}, capture_output=True, text=True
        )

    skipped = run()
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout
    assert f"reference data not found at {tmp_path / 'absent'}" in skipped.stdout
    failed = run(CI="true")
    assert failed.returncode == 1 and "1 failed" in failed.stdout
    assert "CI=true: CI must have the shared data" in failed.stdout


def _blob_sha(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_no_shared_material_is_tracked_in_the_repository() -> None:
    """Every file of ../shared/{reference,fixtures} hashed against every tracked blob."""
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "-s"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    blobs = {line.split()[1]: line.split("\t", 1)[1] for line in tracked.splitlines()}
    roots = [REFERENCE_DATA.locate(), FIXTURE_DATA.locate()]
    shared = {_blob_sha(f): f for root in roots for f in root.rglob("*") if f.is_file()}
    copies = [f"{blobs[sha]} = {shared[sha]}" for sha in blobs.keys() & shared.keys()]
    assert not copies, copies
