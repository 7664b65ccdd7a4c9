"""Hardening fixtures: one sandbox for the session and the e2e configuration pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.conftest import CONFIG, SECRETS

from distributor.config import Settings, load_config
from distributor.sandbox import Sandbox


@pytest.fixture(scope="session")
def _box() -> Iterator[Sandbox]:
    with Sandbox(port=0, seed=7) as box:
        yield box


@pytest.fixture
def box(_box: Sandbox) -> Iterator[Sandbox]:
    _box.reset()
    yield _box
    _box.reset()


@pytest.fixture
def box_settings(box: Sandbox, tmp_path: Path) -> Settings:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(url=box.url), encoding="utf-8")
    env = {**SECRETS, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    return load_config(path, environ=env)
