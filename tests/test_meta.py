"""The one Meta Graph error table and usage reading that Facebook, Threads and Instagram share."""

from __future__ import annotations

from typing import Any

import pytest

from distributor.errors import (
    AuthFailed,
    DuplicateContent,
    MaybeSent,
    NotSent,
    RateLimited,
    Rejected,
)
from distributor.platforms.meta import classify, rate_wait, usage_extra


def _error(code: int, sub: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": "m", "type": "OAuthException", "code": code, **extra}
    if sub is not None:
        error["error_subcode"] = sub
    return {"error": error}


@pytest.mark.parametrize("platform", ["facebook", "threads", "instagram"])
@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (_error(341), 400, RateLimited),  # Threads had lost 341 (the tables had drifted)
        (_error(104), 400, AuthFailed),  # ... and 104
        (_error(190, 463), 400, AuthFailed),
        (_error(506), 400, DuplicateContent),
        (_error(100), 400, Rejected),
        (_error(1), 500, MaybeSent),
        (_error(9, is_transient=True), 400, MaybeSent),
        (_error(100), 502, MaybeSent),  # a 5xx while sending: the post may exist
        (None, 401, AuthFailed),
        (None, 429, RateLimited),
        (None, 404, Rejected),  # a proxy's page: wrong base_url
    ],
)
def test_every_meta_platform_reads_codes_the_same_way(
    platform: str, body: Any, status: int, expected: type
) -> None:
    error = classify(platform, "ch", body, status, {})
    assert type(error) is expected and error.platform == platform


@pytest.mark.parametrize(
    ("code", "sub", "expected"),
    [
        (9, 2207042, RateLimited),  # content publishing limit
        (4, 2207051, Rejected),  # code 4 is the app throttle, but this subcode is a spam block
        (9007, 2207027, NotSent),  # container not ready yet
        (-2, 2207003, NotSent),  # image download timed out
        (-1, 2207001, MaybeSent),  # Instagram server error
        (36000, 2207004, Rejected),  # image too large
    ],
)
def test_instagram_subcodes_win_over_codes(code: int, sub: int, expected: type) -> None:
    error = classify("instagram", "ch", _error(code, sub), 400, {})
    assert type(error) is expected and error.code == f"{code}/{sub}"


def test_reads_change_nothing() -> None:
    assert type(classify("threads", "ch", _error(2), 503, {}, sending=False)) is NotSent


def test_message_names_the_code_once() -> None:
    plain = classify("threads", "ch", _error(190), 400, {})
    assert plain.detail.startswith("(190) m")
    graph = {"error": {"message": "(#100) Invalid parameter", "code": 100}}
    assert classify("facebook", "ch", graph, 400, {}).detail == "(#100) Invalid parameter"


def test_rate_wait_reads_the_regain_estimate_of_any_usage_header() -> None:
    buc = {"x-business-use-case-usage": '{"1": [{"estimated_time_to_regain_access": 7}]}'}
    assert rate_wait(buc)[0] == 420
    assert rate_wait({}) == (3600.0, None)
    assert rate_wait({"x-app-usage": "not json"}) == (3600.0, None)
    assert usage_extra({"x-app-usage": '{"call_count": 80, "total_time": 5}'}) == {
        "rate_remaining": "20",
        "rate_unit": "percent",
    }
