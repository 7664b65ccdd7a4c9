"""The package a newsroom installs: the wheel's name and contents, no setuptools at run time, and
`distributor demo` from an installed wheel (not a checkout) suggesting commands that work."""

from __future__ import annotations

import email
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from locations import REPO, child_env

from distributor.cli.demo import next_steps

# Each entry point into twitter_text, first in a fresh interpreter where pkg_resources is gone
# (setuptools >= 81, or none at all, as in a python:3.12 image).
NO_PKG_RESOURCES = """
import sys
class Gone:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pkg_resources":
            raise ModuleNotFoundError("No module named 'pkg_resources'")
sys.meta_path.insert(0, Gone())
"""
URL = "https://www.tageblatt-beispiel.de/lokales/radbruecke"
ENTRY_POINTS = {
    # A bare domain: plain https URLs are counted without twitter_text (limits.x_plain_weight).
    "limits": "from distributor import limits; assert limits.length('x', 'a example.de/a') == 25",
    "bluesky": f"from distributor.platforms.bluesky_facets import facets; assert facets('{URL}')",
    "x-adapter": f"from distributor.platforms.x import _shape; assert _shape('a {URL}')[1]",
    "x-sandbox": f"from distributor.sandbox.x import shorten; assert 't.co' in "
    f"shorten('a {URL}', [], 'u', '1')[0]",
    "mastodon-sandbox": f"from distributor.sandbox.mastodon import linkify; "
    f"assert '<a href' in linkify('a {URL}')",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_twitter_text_works_without_pkg_resources(entry: str) -> None:
    code = NO_PKG_RESOURCES + ENTRY_POINTS[entry] + "\nprint('ok')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
PIP_WHEEL += ["--no-build-isolation"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, offline (hatchling from the dev extra)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("*.whl")
    return built


def test_wheel_name_metadata_and_contents(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(whl.read(f"{info}/METADATA"))
    assert wheel.name.startswith("newsroom_distributor-")
    assert meta["Name"] == "newsroom-distributor" and meta["License-Expression"] == "MIT"
    assert f"{info}/licenses/LICENSE" in names and "distributor/py.typed" in names
    assert "Typing :: Typed" in meta.get_all("Classifier", [])
    assert {u.split(",")[0] for u in meta.get_all("Project-URL", [])} >= {"Source", "Issues"}
    requires = [r.split(";")[0] for r in meta.get_all("Requires-Dist", [])]
    assert not [r for r in requires if r.startswith("setuptools")], requires
    samples = {n for n in names if n.startswith("distributor/_examples/articles/")}
    assert "distributor/_examples/articles/radbruecke-stadtrat.json" in samples
    assert "distributor/_examples/distributor.toml" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "chaos/"))]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv with only the wheel installed in it; its dependencies come from this venv's
    site-packages through a plain path entry (no network), never the checkout's sources."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    py = f"python{sys.version_info.major}.{sys.version_info.minor}"
    deps = sysconfig.get_paths()["purelib"]
    (venv / "lib" / py / "site-packages" / "zz_deps.pth").write_text(deps + "\n")
    yield venv


def _run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = child_env()
    return subprocess.run(
        [str(venv / "bin" / "distributor"), *argv],
        cwd=cwd,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _hints(out: str) -> list[list[str]]:
    lines = out.split("Try next:", 1)[1].strip().splitlines()
    return [shlex.split(line.split("  # ")[0]) for line in lines if line.strip()]


def test_demo_from_an_installed_wheel_suggests_commands_that_work(
    installed: Path, tmp_path: Path
) -> None:
    where = _run(installed, tmp_path, "demo")
    assert where.returncode == 0, where.stderr[-2000:]
    check = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import distributor; print(distributor.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert str(installed) in check.stdout, "the wheel, not the checkout, must be what runs"
    hints = _hints(where.stdout)
    assert hints and all(argv[0] == "distributor" for argv in hints), hints
    for argv in hints:
        paths = [a for a in argv[1:] if "/" in a]
        assert all((tmp_path / p).exists() for p in paths), f"{argv}: no such file here"
        if argv[1:] in (["sandbox"], ["demo"]):  # a server; and the demo just ran
            continue
        run = _run(installed, tmp_path, *argv[1:])
        assert run.returncode == 0, f"{shlex.join(argv)}: {run.stderr[-500:]}"


def test_hints_from_a_checkout_name_files_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cwd in (REPO, tmp_path):
        monkeypatch.chdir(cwd)
        for command, _ in next_steps():
            assert not command.startswith("make "), command
            paths = [a for a in shlex.split(command) if "/" in a]
            assert all((cwd / p).exists() for p in paths), (cwd, command)
    monkeypatch.chdir(REPO)  # in a checkout, the short path a user would type
    commands = [command for command, _ in next_steps()]
    assert "distributor preview examples/articles/radbruecke-stadtrat.json" in commands
