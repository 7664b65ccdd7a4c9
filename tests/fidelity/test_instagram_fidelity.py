"""The Instagram emulator's Graph error answers have the shape of real recorded Graph ones.

No real Instagram publishing exchange is recorded in the shared reference data; the Graph error
bodies that are (an expired token 190/463, an invalidated one 190, an invalid parameter #100)
come from the same Graph front end Instagram's API answers through, so the emulator's answers to
the requests that provoke them must match in status, `error` keys, `type`, `code` and subcode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from graph_samples import INVALIDATED, curated, recorded

from distributor.sandbox import Sandbox

USER = "17841400000000002"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(port=0, platforms=["instagram"]) as sandbox:
        yield sandbox


def _create(box: Sandbox, token: str, image_url: str = "https://i.example/a.jpg") -> Any:
    url = f"{box.url}/instagram/v21.0/{USER}/media"
    data = {"image_url": image_url, "caption": "Meldung", "access_token": token}
    return requests.post(url, data=data, timeout=10)


CASES = {
    "expired token": (lambda: curated("error_190_463_expired_2015"), "IGQ-expired", ""),
    "invalidated token": (lambda: recorded(INVALIDATED), "IGQ-invalid", ""),
    "invalid parameter": (
        lambda: recorded("python-facebook-testdata/error.json"),
        "IGQ-token",
        "not a url",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_matches_the_recorded_body(box: Sandbox, case: str) -> None:
    box.reset()
    load, token, image = CASES[case]
    status, real = load()
    got = _create(box, token, image) if image else _create(box, token)
    ours, theirs = got.json()["error"], real["error"]
    assert got.status_code == (status or 400)
    assert got.headers["content-type"].startswith("application/json")
    assert set(theirs) <= set(ours), f"keys missing: {set(theirs) - set(ours)}"
    for key in ("type", "code", "error_subcode"):
        assert ours.get(key) == theirs.get(key), key
    assert box.posts("instagram") == []
