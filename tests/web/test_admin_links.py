"""The admin pages' links: `url()` gives what Starlette's `url_path_for` gives, also after it
remembered a route's path, and refuses what Starlette refuses."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")


def _request() -> Any:
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles
    from starlette.requests import Request

    app = FastAPI()
    app.state.paths = {}
    app.add_api_route("/deliveries/{id}", lambda id: id, name="delivery")
    app.add_api_route("/x/{a}/{ab}", lambda a, ab: a, name="two")
    app.mount("/static", StaticFiles(packages=[("distributor.web.admin", "static")]), "static")
    return Request({"type": "http", "app": app, "root_path": "/admin"})


def test_links_are_starlettes_also_when_remembered() -> None:
    from starlette.routing import NoMatchFound

    from distributor.web.admin.app import url

    request = _request()
    for _ in range(2):  # the second time from the remembered path
        assert url(request, "delivery", id=7) == "/admin/deliveries/7"
        assert url(request, "delivery", id="a-b_c") == "/admin/deliveries/a-b_c"
        assert url(request, "two", a=1, ab=22) == "/admin/x/1/22"
        assert url(request, "static", path="admin.css") == "/admin/static/admin.css"
        assert url(request, "static", path="img/a.png") == "/admin/static/img/a.png"
    with pytest.raises(AssertionError):
        url(request, "delivery", id="a/b")  # Starlette's own check, not a wrong link
    with pytest.raises(NoMatchFound):
        url(request, "delivery", nope=1)
