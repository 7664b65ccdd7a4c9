"""Facebook end to end: the real facebook-sdk adapter against the sandbox's Graph API emulator."""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from locations import REFERENCE, REPO
from plain_http import adapter, closed_port_url, draft

from distributor.article import Image
from distributor.errors import (
    AuthFailed,
    ConfigError,
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


def _link_draft(settings: Any, text: str | None = None) -> Draft:
    d = replace(draft(settings, CHANNEL), image=None)
    return replace(d, text=text) if text is not None else d


def _paths(sandbox: Any) -> list[str]:
    return [str(r["path"]) for r in sandbox.requests("facebook")]


def test_photo_post_carries_image_caption_and_version(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None and d.image.credit in d.text  # the template wrote the credit
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("facebook")
    assert post.account == PAGE and post.text == d.text
    assert post.data["kind"] == "photo" and post.data["photo"] == {"url": d.image.url}
    assert receipt.remote_id == post.id and post.id.startswith(f"{PAGE}_")
    assert receipt.extra["photo_id"] == post.data["photo_id"]
    assert receipt.url == f"https://www.facebook.com/{PAGE}/posts/{post.id.split('_')[1]}"
    # facebook-sdk would have sent v2.8; the instance version wins
    assert _paths(sandbox) == [f"/v21.0/{PAGE}/photos"]
    assert receipt.extra["rate_remaining"] == "99" and receipt.extra["rate_unit"] == "percent"


def test_link_post_sends_message_and_link(sandbox: Any, sandbox_settings: Any) -> None:
    d = _link_draft(sandbox_settings)
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("facebook")
    assert (post.text, post.data["link"], post.data["kind"]) == (d.text, d.link, "link")
    assert receipt.remote_id == post.id and "photo_id" not in receipt.extra
    assert _paths(sandbox) == [f"/v21.0/{PAGE}/feed"]


def test_credit_goes_into_the_caption_when_the_template_left_it_out(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    bare = replace(d, text=d.text.replace(f"Bild: {d.image.credit}", "").strip())
    assert d.image.credit not in bare.text
    fb = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    receipt = fb.publish(bare, key="k")
    [post] = sandbox.posts("facebook")
    assert post.text == f"{bare.text}\n\nBild: {d.image.credit}"
    found = fb.lookup(bare, key="k", since=since)
    assert found is not None and found.remote_id == receipt.remote_id


def test_unfetchable_image_falls_back_to_a_link_post(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    broken = replace(d, image=Image("https://news.example/unreachable.jpg", "alt", "dpa"))
    adapter(sandbox_settings, CHANNEL).publish(broken, key="k")
    [post] = sandbox.posts("facebook")
    assert post.data["kind"] == "link" and post.data["link"] == d.link
    assert [r["status"] for r in sandbox.requests("facebook")] == [400, 200]


def test_graph_version_option(sandbox: Any, sandbox_settings: Any) -> None:
    adapter(sandbox_settings, CHANNEL, graph_version="23.0").publish(
        _link_draft(sandbox_settings), key="k"
    )
    assert _paths(sandbox) == [f"/v23.0/{PAGE}/feed"]
    with pytest.raises(ConfigError, match=r"graph_version must look like v21\.0"):
        adapter(sandbox_settings, CHANNEL, graph_version="latest")


def test_delete_lookup_and_verify(sandbox: Any, sandbox_settings: Any) -> None:
    d = _link_draft(sandbox_settings)
    fb = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    assert fb.lookup(d, key="k", since=since) is None
    receipt = fb.publish(d, key="k")
    found = fb.lookup(d, key="k", since=since)
    assert found is not None and (found.remote_id, found.url) == (receipt.remote_id, receipt.url)
    assert found.posted_at is not None and found.posted_at >= since - timedelta(seconds=1)
    assert fb.lookup(d, key="k", since=datetime.now(UTC) + timedelta(minutes=5)) is None
    fb.delete(receipt)
    fb.delete(receipt)  # "does not exist": already gone is fine
    assert sandbox.posts("facebook") == [] and len(sandbox.posts("facebook", True)) == 1
    assert fb.lookup(d, key="k", since=since) is None
    info = fb.verify()
    assert (info.platform, info.account_id, info.name) == ("facebook", PAGE, "Distributor Sandbox")
    assert info.url == f"https://www.facebook.com/{PAGE}"


def test_lookup_pages_through_published_posts(sandbox: Any, sandbox_settings: Any) -> None:
    fb = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    target = fb.publish(_link_draft(sandbox_settings), key="k")
    for n in range(26):
        fb.publish(_link_draft(sandbox_settings, f"Andere Meldung {n}"), key=f"k{n}")
    found = fb.lookup(_link_draft(sandbox_settings), key="k", since=since)
    assert found is not None and found.remote_id == target.remote_id
    lookups = [r for r in sandbox.requests("facebook") if r["route"] == "lookup"]
    assert len(lookups) == 2  # 25 per page: the oldest post is on the second


@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_answer_is_maybe_sent_and_lookup_finds_the_post(
    sandbox: Any, sandbox_settings: Any, mode: str
) -> None:
    d = _link_draft(sandbox_settings)
    fb = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="facebook", route="create", kind="lost", mode=mode, count=1)
    with pytest.raises(MaybeSent):
        fb.publish(d, key="k")
    [post] = sandbox.posts("facebook")
    found = fb.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id
    with pytest.raises(DuplicateContent, match=r"\(#506\) Duplicate status message"):
        fb.publish(d, key="k")  # a blind resend would be refused as a duplicate anyway
    assert len(sandbox.posts("facebook")) == 1


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
    return json.loads((REFERENCE / "facebook" / name).read_text(encoding="utf-8"))


def _curated(sample: str) -> Any:
    samples = _reference("graph_api_curated_samples.json")["samples"]
    return next(s["body"] for s in samples if s["id"] == sample)


@pytest.mark.parametrize(
    ("body", "expected", "code"),
    [
        (_curated("error_190_463_expired_2015"), AuthFailed, "190/463"),
        (_curated("error_506_duplicate_status_2012"), DuplicateContent, "506"),
        (
            _reference(
                "bk-rs-facebook-apis-rs/"
                "facebook-graph-api-object-error__err__access_token_session_has_been_invalidated.json"
            ),
            AuthFailed,
            "190",
        ),
        (_reference("python-facebook-testdata/error.json"), Rejected, "100"),
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
    from distributor.platforms.facebook import classify_graph

    error = classify_graph(body, 400, {}, CHANNEL)
    assert type(error) is expected and error.code == code
    assert str(error).startswith(f"facebook/{CHANNEL}: ") and "\n" not in str(error)


def test_rate_limit_waits_for_the_regain_estimate(sandbox: Any, sandbox_settings: Any) -> None:
    error = _publish_error(sandbox, sandbox_settings, kind="rate_limit", seconds=120)
    assert isinstance(error, RateLimited) and error.code == "32"
    assert error.retry_after == 120.0  # estimated_time_to_regain_access: 2 minutes
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
    sandbox.faults.add(platform="facebook", route="create", kind="hang", seconds=2, count=1)
    with pytest.raises(MaybeSent, match="read timeout"):
        adapter(sandbox_settings, CHANNEL, timeout=0.5).publish(d, key="k")
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


def test_no_token_in_logs_urls_or_errors(
    sandbox: Any, sandbox_settings: Any, sandbox_secrets: dict[str, str], caplog: Any, capsys: Any
) -> None:
    token = sandbox_secrets["FACEBOOK_PAGE_TOKEN"]
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "facebook"):
        caplog.set_level(logging.DEBUG, logger=name)
    fb = adapter(sandbox_settings, CHANNEL, timeout=0.5)
    d = _link_draft(sandbox_settings)
    receipt = fb.publish(d, key="k")
    fb.lookup(d, key="k", since=datetime.now(UTC) - timedelta(minutes=1))
    fb.delete(receipt)
    errors: list[str] = []
    for fault in (
        {"kind": "error", "status": 400, "error": "auth"},
        {"kind": "lost", "mode": "504"},
        {"kind": "hang", "seconds": 1},
        {"kind": "reset"},
    ):
        sandbox.reset()
        sandbox.faults.add(platform="facebook", route="*", count=1, **fault)
        with pytest.raises(PublishError) as info:
            fb.publish(d, key="k")
        errors.append(f"{info.value!s} {info.value!r} {info.value.__cause__!r}")
    out = capsys.readouterr()
    assert "v21.0" in caplog.text  # urllib3 did log the requests at DEBUG
    assert token not in caplog.text + out.out + out.err + " ".join(errors)
    assert "access_token" not in caplog.text  # not even masked: it was never in a URL


def test_token_travels_in_the_header_only(
    sandbox: Any, sandbox_settings: Any, sandbox_secrets: dict[str, str]
) -> None:
    from distributor.platforms.facebook import FacebookAdapter

    sent: list[requests.PreparedRequest] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    channel = sandbox_settings.channel(CHANNEL)
    fb = FacebookAdapter(
        channel,
        sandbox_settings.credentials(channel),
        base_url=sandbox_settings.base_url(channel),
        session=session,
    )
    d = _link_draft(sandbox_settings)
    receipt = fb.publish(d, key="k")
    fb.lookup(d, key="k", since=datetime.now(UTC) - timedelta(minutes=1))
    fb.delete(receipt)
    token = sandbox_secrets["FACEBOOK_PAGE_TOKEN"]
    assert [r.method for r in sent] == ["POST", "GET", "DELETE"]
    for request in sent:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        assert token not in (request.url or "") + body and "access_token" not in body
        assert request.headers["Authorization"] == f"OAuth {token}"
    assert "message=" in str(sent[0].body) and "fields=id%2Cmessage" in str(sent[1].url)


def test_pages_sharing_one_session_keep_their_own_tokens(
    sandbox: Any, sandbox_settings: Any
) -> None:
    from distributor.platforms.facebook import FacebookAdapter

    channel = sandbox_settings.channel(CHANNEL)
    shared = requests.Session()
    base = sandbox_settings.base_url(channel)
    good = FacebookAdapter(
        channel, sandbox_settings.credentials(channel), base_url=base, session=shared
    )
    other = replace(channel, name="facebook_other", options={**channel.options, "page_id": "7"})
    expired = FacebookAdapter(
        other, {"page_token": Secret("EAA-expired-other-page")}, base_url=base, session=shared
    )
    assert good.session is expired.session is shared
    with pytest.raises(AuthFailed):
        expired.publish(_link_draft(sandbox_settings), key="k")
    good.publish(_link_draft(sandbox_settings), key="k")
    assert [p.account for p in sandbox.posts("facebook")] == [PAGE]


def test_sdk_multipart_photo_upload_and_me(sandbox: Any) -> None:
    import facebook
    from image_server import JPEG

    from distributor.platforms.http import session_for

    session = session_for(sandbox.base_url("facebook"), real_hosts=("https://graph.facebook.com/",))
    graph = facebook.GraphAPI(access_token="EAA-upload-token", timeout=5, session=session)
    graph.version = "v21.0"
    photo = graph.put_photo(io.BytesIO(JPEG), album_path=f"{PAGE}/photos", message="Bildtext")
    [post] = sandbox.posts("facebook")
    assert photo == {"id": post.data["photo_id"], "post_id": post.id}
    assert post.text == "Bildtext" and post.data["photo"]["size"] == len(JPEG)
    me = graph.get_object("me", fields="id,name")
    assert me == {"id": PAGE, "name": "Distributor Sandbox"}  # the page this token posted to
    with pytest.raises(facebook.GraphAPIError) as info:
        graph.put_object(PAGE, "feed", message="")
    assert info.value.code == 100 and "Missing message or attachment" in str(info.value)


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
    from distributor.platforms.facebook import classify_graph

    error = classify_graph(body, status, {}, CHANNEL, sending=sending)
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
