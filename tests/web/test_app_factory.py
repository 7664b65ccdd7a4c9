"""The web app factory mounts the admin UI or fails: a broken import is never a missing page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from admin_helpers import admin_settings, app_over_sqlite

from distributor.store import open_store
from distributor.web.app import create_app


def _paths(app: object) -> set[str]:
    return {getattr(route, "path", "") for route in app.routes}  # type: ignore[attr-defined]


def test_the_admin_ui_is_mounted_when_configured(tmp_path: Path) -> None:
    with app_over_sqlite(tmp_path) as (app, _store):
        assert "/admin" in _paths(app)


@pytest.mark.parametrize("module", ["distributor.web.admin", "distributor.web.admin.options"])
def test_a_broken_admin_import_is_an_error_not_a_missing_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = admin_settings(tmp_path, "http://127.0.0.1:9", db)
    for name in [m for m in sys.modules if m.startswith(module)]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    store = open_store(db)
    try:
        with pytest.raises(ImportError, match=module.replace(".", r"\.")):
            create_app(settings, store=store)
    finally:
        store.close()
