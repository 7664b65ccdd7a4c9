"""The example systemd units in deploy/: they run real `distributor` commands, restart on
failure, stop with SIGTERM after the worker's grace, read the .env, and systemd accepts them."""

from __future__ import annotations

import configparser
import shutil
import subprocess

import pytest
from locations import REPO

from distributor.cli import COMMANDS
from distributor.config import Policy

UNITS = sorted((REPO / "deploy").glob("*.service"))


def _service(path: object) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(str(path), encoding="utf-8")
    return parser["Service"]


def test_units_for_worker_serve_and_watch_exist() -> None:
    names = {p.name for p in UNITS}
    assert {"distributor-worker.service", "distributor-serve.service"} <= names
    assert "distributor-watch.service" in names


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_runs_a_distributor_command_and_reads_the_env(unit: object) -> None:
    service = _service(unit)
    command = service["ExecStart"].split()
    assert command[0].endswith("/distributor") and command[1] in COMMANDS
    assert service["EnvironmentFile"].endswith("/.env")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"


@pytest.mark.parametrize("name", ["worker", "serve", "watch"])
def test_long_running_units_stop_gracefully_and_restart(name: str) -> None:
    service = _service(REPO / "deploy" / f"distributor-{name}.service")
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    if name == "worker":  # systemd must wait longer than the worker's own grace
        assert float(service["TimeoutStopSec"]) > Policy().shutdown_grace


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units() -> None:
    units = [str(p) for p in UNITS] + [str(p) for p in (REPO / "deploy").glob("*.timer")]
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The units name /opt/distributor/.venv/bin/distributor, which this machine does not have.
    problems = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        if line.strip() and "is not executable" not in line
    ]
    assert not problems, problems
