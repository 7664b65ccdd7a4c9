"""The Facebook emulator's Graph answers have the shape of real recorded ones.

The reference bodies have no recorded requests to replay, so each is paired with the request
that provokes the same error on the emulator: an expired token (190/463), an invalidated one
(190), the same message twice (#506), and a post (id `<page>_<post>`). Status (where the
recording has one), the `error` object's keys, `type`, `code` and `error_subcode` must match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from graph_samples import INVALIDATED, curated, recorded

from distributor.sandbox import Sandbox

PAGE = "104857600000001"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(port=0, platforms=["facebook"]) as sandbox:
        yield sandbox


def _post(box: Sandbox, token: str, message: str) -> requests.Response:
    url = f"{box.url}/facebook/v21.0/{PAGE}/feed"
    return requests.post(url, data={"message": message, "access_token": token}, timeout=10)


def _twice(box: Sandbox) -> requests.Response:
    _post(box, "page-token", "Zweimal dieselbe Meldung")
    return _post(box, "page-token", "Zweimal dieselbe Meldung")


CASES = {
    "expired token": (lambda: curated("error_190_463_expired_2015"), "expired-token", None),
    "invalidated token": (lambda: recorded(INVALIDATED), "invalid-token", None),
    "duplicate status": (lambda: curated("error_506_duplicate_status_2012"), None, _twice),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_matches_the_recorded_body(box: Sandbox, case: str) -> None:
    box.reset()
    load, token, provoke = CASES[case]
    status, real = load()
    got = provoke(box) if provoke else _post(box, token or "", "Meldung")
    ours, theirs = got.json()["error"], real["error"]
    assert status is None or got.status_code == status
    assert set(theirs) <= set(ours), f"keys missing: {set(theirs) - set(ours)}"
    for key in ("type", "code", "error_subcode"):
        assert ours.get(key) == theirs.get(key), key


def test_post_id_has_the_recorded_shape(box: Sandbox) -> None:
    box.reset()
    status, real = curated("feed_post_success_batch_2012")
    got = _post(box, "page-token", "Eine Meldung")
    assert got.status_code == status
    assert set(got.json()) == set(real)
    shape = re.compile(r"\d+_\d+")
    assert shape.fullmatch(real["id"]) and shape.fullmatch(got.json()["id"])
