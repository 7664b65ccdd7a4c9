"""Facebook errors: every Graph answer and transport failure maps to exactly one error class."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from locations import REPO, reference
from plain_http import adapter, closed_port_url, draft

from distributor.errors import (
    AuthFailed,
    DuplicateContent,
    MaybeSent,
    NotSent,
    PublishError,
    RateLimited,
    Rejected,
)
from distributor.platforms.base import Draft
from distributor.secrets import Secret

CHANNEL = "facebook_page"
PAGE = "104857600000001"


def _link_draft(settings: Any, text: str = "") -> Draft:
    d = replace(draft(settings, CHANNEL), image=None)
    return replace(d, text=text or d.text)


def _publish_error(sandbox: Any, settings: Any, **fault: Any) -> PublishError:
    sandbox.faults.add(platform="facebook", route="create", count=1, **fault)
    with pytest.raises(PublishError) as info:
        adapter(settings, CHANNEL).publish(_link_draft(settings), key="k")
    assert sandbox.posts("facebook") == []
    return info.value


@pytest.mark.parametrize(
    ("status", "kind", "expected", "code"),
    [
        (400, "auth", AuthFailed, "190"),
        (403, "forbidden", AuthFailed, "200"),
        (400, "forbidden", Rejected, "368/1390008"),
        (400, "invalid", Rejected, "100"),
        (400, "duplicate", DuplicateContent, "506"),
        (429, "server", RateLimited, "4"),
        (500, "server", MaybeSent, "1"),
        (503, "server", MaybeSent, "2"),
        (502, "html", MaybeSent, None),
    ],
)
def test_each_injected_error_maps_to_one_class(
    sandbox: Any, sandbox_settings: Any, status: int, kind: str, expected: type, code: str | None
) -> None:
    error = _publish_error(sandbox, sandbox_settings, kind="error", status=status, error=kind)
    assert type(error) is expected
    assert (error.code, error.status) == (code, status)
    if isinstance(error, RateLimited):
        assert error.retry_after == 3600.0 and error.reset_at is None  # no regain estimate sent


def _reference(name: str) -> Any:
    return json.loads(reference("facebook", name).read_text(encoding="utf-8"))


def _curated(sample: str) -> Any:
    samples = _reference("graph_api_curated_samples.json")["samples"]
    return next(s["body"] for s in samples if s["id"] == sample)


@pytest.mark.parametrize(
    ("load", "name", "expected", "code"),
    [
        (_curated, "error_190_463_expired_2015", AuthFailed, "190/463"),
        (_curated, "error_506_duplicate_status_2012", DuplicateContent, "506"),
        (
            _reference,
            "bk-rs-facebook-apis-rs/"
            "facebook-graph-api-object-error__err__access_token_session_has_been_invalidated.json",
            AuthFailed,
            "190",
        ),
        (_reference, "python-facebook-testdata/error.json", Rejected, "100"),
    ],
)
def test_real_graph_errors_map_to_one_class(
    load: Callable[[str], Any], name: str, expected: type, code: str
) -> None:
    """Error bodies Facebook really sent (shared reference data, read in place)."""
    _assert_maps_to(load(name), expected, code)


@pytest.mark.parametrize(
    ("body", "expected", "code"),
    [
        ({"error": {"message": "(#17) User request limit reached", "code": 17}}, RateLimited, "17"),
        ({"error": {"message": "(#613) Calls exceeded", "code": 613}}, RateLimited, "613"),
        (
            {"error": {"message": "Too many calls to this Page", "code": 80001}},
            RateLimited,
            "80001",
        ),
        ({"error": {"message": "(#368) blocked", "code": 368}}, Rejected, "368"),
        ({"error": {"message": "(#10) Permission denied", "code": 10}}, AuthFailed, "10"),
    ],
)
def test_recorded_graph_errors_map_to_one_class(body: Any, expected: type, code: str) -> None:
    _assert_maps_to(body, expected, code)


def _assert_maps_to(body: Any, expected: type, code: str) -> None:
    from distributor.platforms.meta import classify

    error = classify("facebook", CHANNEL, body, 400, {})
    assert type(error) is expected and error.code == code
    assert str(error).startswith(f"facebook/{CHANNEL}: ") and "\n" not in str(error)


@pytest.mark.parametrize(("seconds", "wait"), [(120, 120.0), (61, 120.0), (3, 3.0)])
def test_rate_limit_waits_for_the_regain_estimate(
    sandbox: Any, sandbox_settings: Any, seconds: float, wait: float
) -> None:
    error = _publish_error(sandbox, sandbox_settings, kind="rate_limit", seconds=seconds)
    assert isinstance(error, RateLimited) and error.code == "32"
    # estimated_time_to_regain_access: whole minutes; the sandbox sends shorter resets as fractions
    assert error.retry_after == pytest.approx(wait, abs=1.0)
    assert error.reset_at is not None and error.reset_at > datetime.now(UTC)


def test_page_limit_usage_paces_and_then_refuses(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.set_limit("facebook", "create", limit=2, window=600)
    fb = adapter(sandbox_settings, CHANNEL)
    first = fb.publish(_link_draft(sandbox_settings, "eins"), key="k1")
    last = fb.publish(_link_draft(sandbox_settings, "zwei"), key="k2")
    assert first.extra["rate_remaining"] == "50" and "rate_reset" not in first.extra
    assert last.extra["rate_remaining"] == "0"
    reset = datetime.fromisoformat(last.extra["rate_reset"])
    assert timedelta(minutes=9) < reset - datetime.now(UTC) <= timedelta(minutes=10)
    with pytest.raises(RateLimited) as info:
        fb.publish(_link_draft(sandbox_settings, "drei"), key="k3")
    assert info.value.retry_after == 600.0
    assert len(sandbox.posts("facebook")) == 2


def test_expired_token_is_auth_failed_with_subcode(sandbox: Any, sandbox_settings: Any) -> None:
    from distributor.platforms.facebook import FacebookAdapter

    channel = sandbox_settings.channel(CHANNEL)
    fb = FacebookAdapter(
        channel,
        {"page_token": Secret("EAA-expired-page-token-0815", "FB")},
        base_url=sandbox_settings.base_url(channel),
    )
    with pytest.raises(AuthFailed, match="Session has expired") as info:
        fb.verify()
    assert info.value.code == "190/463"


def test_transport_failures(sandbox: Any, sandbox_settings: Any) -> None:
    from distributor.platforms.facebook import FacebookAdapter

    d = _link_draft(sandbox_settings)
    channel = sandbox_settings.channel(CHANNEL)
    refused = FacebookAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("facebook")
    )
    with pytest.raises(NotSent):
        refused.publish(d, key="k")
    sandbox.faults.add(platform="facebook", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent, match="read timeout"):
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(d, key="k")
    sandbox.faults.add(platform="facebook", route="create", kind="reset", count=1)
    with pytest.raises(MaybeSent):  # the request was written before the reset
        adapter(sandbox_settings, CHANNEL).publish(d, key="k")


def test_failed_reads_are_not_sent(sandbox: Any, sandbox_settings: Any) -> None:
    fb = adapter(sandbox_settings, CHANNEL)
    sandbox.faults.add(platform="facebook", route="lookup", kind="error", status=503, count=1)
    with pytest.raises(NotSent):
        fb.lookup(_link_draft(sandbox_settings), key="k", since=datetime.now(UTC))
    sandbox.faults.add(platform="facebook", route="verify", kind="lost", mode="504", count=1)
    with pytest.raises(NotSent):
        fb.verify()


def test_error_objects_have_graphs_shape(sandbox: Any) -> None:
    base = f"{sandbox.url}/facebook/v21.0/{PAGE}"
    expired = requests.post(
        f"{base}/feed", data={"message": "x", "access_token": "EAA-expired"}, timeout=5
    )
    error = expired.json()["error"]
    assert expired.status_code == 400 and expired.headers["content-type"].startswith(
        "application/json"
    )
    assert set(error) == {"message", "type", "code", "error_subcode", "fbtrace_id"}
    assert (error["type"], error["code"], error["error_subcode"]) == ("OAuthException", 190, 463)
    assert expired.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_tok')
    sandbox.faults.add(platform="facebook", route="create", kind="rate_limit", seconds=300)
    limited = requests.post(f"{base}/feed", data={"message": "x", "access_token": "t"}, timeout=5)
    assert limited.json()["error"]["code"] == 32 and limited.json()["error"]["is_transient"]
    [entry] = json.loads(limited.headers["x-business-use-case-usage"])[PAGE]
    assert entry["estimated_time_to_regain_access"] == 5 and entry["call_count"] == 100
    assert json.loads(limited.headers["x-app-usage"])["call_count"] == 100


@pytest.mark.parametrize(
    ("body", "status", "sending", "expected"),
    [
        (
            {"error": {"message": "try later", "code": 9, "is_transient": True}},
            400,
            True,
            MaybeSent,
        ),
        (None, 504, True, MaybeSent),  # an HTML page from a proxy
        (None, 200, True, MaybeSent),  # "json" in the content type, something else in the body
        (None, None, True, MaybeSent),  # no Content-Type: facebook-sdk raises a bare KeyError
        (None, 404, True, Rejected),  # a 4xx without a Graph error: wrong base_url
        (None, 502, False, NotSent),  # a read changes nothing
        ({"error": {"message": "unknown", "code": 2}}, 503, False, NotSent),
    ],
)
def test_answers_without_a_usable_graph_error(
    body: Any, status: int | None, sending: bool, expected: type
) -> None:
    from distributor.platforms.meta import classify

    error = classify("facebook", CHANNEL, body, status, {}, sending=sending)
    assert type(error) is expected and error.status == status


def _documented_faults() -> list[tuple[str, str]]:
    doc = (REPO / "docs" / "platforms" / "facebook.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`facebook:[^|]+) \| ([^|]+) \|$", doc, flags=re.M)
    return [(s, answer) for specs, answer in rows for s in re.findall(r"`(facebook:[^`]+)`", specs)]


@pytest.mark.parametrize(("spec", "answer"), _documented_faults())
def test_documented_fault_specs_give_the_documented_answer(
    sandbox: Any, spec: str, answer: str
) -> None:
    from distributor.sandbox.faults import parse_fault

    rule = parse_fault(spec)
    sandbox.faults.add(rule)
    route = {"create": f"/{PAGE}/feed", "verify": f"/{PAGE}"}[rule.route]
    url = f"{sandbox.url}/facebook/v21.0{route}"
    params = {"message": "x", "access_token": "EAA-doc"}
    method = "POST" if rule.route == "create" else "GET"
    reply = requests.request(method, url, data=params if method == "POST" else None, timeout=5)
    if "created" in answer:
        assert reply.status_code == 504 and len(sandbox.posts("facebook")) == 1
    if "HTML" in answer or "created" in answer:
        assert reply.headers["content-type"].startswith("text/html")
        return
    code = reply.json()["error"]["code"]
    documented = re.search(r"\(#(\d+)\)|code (\d+)|^(\d+) ", answer)
    assert documented is not None
    assert str(code) in documented.groups()
