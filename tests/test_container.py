"""Dockerfile and compose.yaml: what can be checked without a container engine.

The files are linted (hadolint) and parsed; every command compose runs is a real `distributor`
command with valid options; the health checks point at what serves them; secrets come only from
.env. Then the very commands of compose.yaml (migrate, one serve, two workers) run here, on
SQLite and PostgreSQL, and their health checks turn healthy, then unhealthy once stopped.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hook_helpers import database_url, free_port
from locations import REPO, child_env

from distributor.config import Policy

COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text("utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
APP = ("migrate", "serve", "worker")
DOCKERFILE = (REPO / "Dockerfile").read_text("utf-8")
BIN = Path(sys.executable).parent


def test_postgres_one_serve_two_workers() -> None:
    assert set(SERVICES) == {"db", *APP}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert "pg_isready" in SERVICES["db"]["healthcheck"]["test"]
    assert SERVICES["worker"]["deploy"]["replicas"] == 2
    assert SERVICES["serve"].get("deploy", {}).get("replicas", 1) == 1
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("serve", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


@pytest.mark.parametrize("name", APP)
def test_services_run_real_commands_with_valid_options(name: str) -> None:
    import click

    from distributor.cli import cli

    argv = SERVICES[name]["command"]
    group = cli.make_context("distributor", list(argv), resilient_parsing=False)
    command = cli.get_command(group, argv[0])
    assert isinstance(command, click.Command), argv
    command.make_context(argv[0], list(argv[1:]), parent=group)  # raises on a bad option
    assert SERVICES[name]["image"].startswith("newsroom-distributor")


def _seconds(text: str) -> float:
    return float(re.fullmatch(r"(\d+)s", text).group(1))  # type: ignore[union-attr]


def test_health_checks_point_at_what_serves_them() -> None:
    serve, worker = SERVICES["serve"], SERVICES["worker"]
    port = serve["command"][serve["command"].index("--port") + 1]
    check = ["CMD", "python", "-m", "distributor.healthcheck"]
    assert serve["healthcheck"]["test"] == [*check, "serve", f"http://127.0.0.1:{port}/healthz"]
    assert worker["healthcheck"]["test"] == [*check, "worker"]
    assert any(p.endswith(f":{port}:{port}") for p in serve["ports"])
    # The worker's grace for sends in flight must fit in the time compose gives before SIGKILL.
    assert _seconds(worker["stop_grace_period"]) > Policy().shutdown_grace


def test_secrets_come_only_from_the_env_file() -> None:
    example = (REPO / ".env.example").read_text("utf-8")
    for name in APP:
        assert SERVICES[name]["env_file"] == ".env"
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|DATABASE_URL", key):
                assert "${POSTGRES_PASSWORD:?" in value, (name, key)
    assert re.search(r"^#?POSTGRES_PASSWORD=", example, re.M), ".env.example must name it"


@pytest.mark.skipif(
    shutil.which("hadolint", path=f"{BIN}:{os.environ['PATH']}") is None,
    reason="hadolint not installed (it comes with the dev extra)",
)
def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=f"{BIN}:{os.environ['PATH']}")
    assert hadolint
    run = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_image_is_slim_non_root_with_the_wheel_and_the_entrypoint() -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim", DOCKERFILE, re.M)
    assert re.search(r"^USER [1-9]\d*:[1-9]\d*$", DOCKERFILE, re.M)  # numeric, never root
    assert 'ENTRYPOINT ["distributor"]' in DOCKERFILE
    assert "pip wheel" in DOCKERFILE and '"${wheel}[web,postgres]"' in DOCKERFILE
    copied = set(re.findall(r"^COPY (?!--)(.+) \S+$", DOCKERFILE, re.M))
    sources = {p.rstrip("/") for line in copied for p in line.split()}
    allowed = {
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text("utf-8").splitlines()
        if line.startswith("!")
    }
    assert sources == allowed, "the build context must hold exactly what the build copies"
    assert all((REPO / s).exists() for s in sources)


# -- the same commands as the containers, in this environment --------------------------------
def _distributor(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "distributor"), *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _health(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distributor.healthcheck", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _until_healthy(*argv: str, env: dict[str, str], cwd: Path) -> str:
    deadline = time.monotonic() + 60
    while True:
        run = _health(*argv, env=env, cwd=cwd)
        if run.returncode == 0 or time.monotonic() > deadline:
            assert run.returncode == 0, run.stderr
            return run.stdout
        time.sleep(0.5)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_compose_commands_run_and_report_health(kind: str, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "distributor.toml", tmp_path / "distributor.toml")
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    env = child_env()
    env |= {
        "DISTRIBUTOR_CONFIG": str(tmp_path / "distributor.toml"),
        "DISTRIBUTOR_DATABASE_URL": database_url(kind, tmp_path),
        "DISTRIBUTOR_WEBHOOK_SECRET": secret,
        "DISTRIBUTOR_LOG_FORMAT": "json",
    }
    port = str(free_port())
    commands = {name: list(SERVICES[name]["command"]) for name in APP}
    commands["serve"][commands["serve"].index("--port") + 1] = port
    migrate = _distributor(*commands["migrate"], env=env, cwd=tmp_path)
    assert migrate.wait(timeout=60) == 0, migrate.communicate()[1]
    before = _health("worker", env=env, cwd=tmp_path)
    assert before.returncode == 1 and "no live worker on" in before.stderr
    procs = [_distributor(*commands[n], env=env, cwd=tmp_path) for n in ("serve", "worker")]
    procs.append(_distributor(*commands["worker"], env=env, cwd=tmp_path))
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert _until_healthy("serve", url, env=env, cwd=tmp_path).startswith("serve ok")
        assert "alive" in _until_healthy("worker", env=env, cwd=tmp_path)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    assert secret not in "".join(errors)
    after = _health("worker", env=env, cwd=tmp_path)  # stopped cleanly: no longer alive
    assert after.returncode == 1 and "no live worker" in after.stderr
    down = _health("serve", f"http://127.0.0.1:{port}/healthz", env=env, cwd=tmp_path)
    assert down.returncode == 1 and down.stderr.startswith("unhealthy: ")
