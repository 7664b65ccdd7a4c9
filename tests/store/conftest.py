"""Store contract fixtures: SQLite always, PostgreSQL when DISTRIBUTOR_TEST_PG_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import T0

from distributor.store import open_store
from distributor.store.store import Store
from distributor.testing import FakeClock

PG_ENV = "DISTRIBUTOR_TEST_PG_URL"


def _pg_url() -> str:
    """A fresh schema-isolated database per test: create a new database on the server."""
    import psycopg

    base = os.environ[PG_ENV]
    name = "dist_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'distributor.db'}"
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://... (CI sets it via .ci/run)")
    return _pg_url()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    s = open_store(store_url, clock=clock)
    yield s
    s.close()
