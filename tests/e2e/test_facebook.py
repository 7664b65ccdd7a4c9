"""Facebook end to end: the real facebook-sdk adapter against the sandbox's Graph API emulator."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from plain_http import adapter, article, draft

from distributor import limits
from distributor.article import Image
from distributor.errors import (
    AuthFailed,
    ConfigError,
    DuplicateContent,
    MaybeSent,
    PublishError,
)
from distributor.post import Draft
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


def test_credit_line_is_rendered_into_the_text_and_posted_as_it_is(
    sandbox: Any, sandbox_settings: Any, tmp_path: Path
) -> None:
    """A template without the credit: rendering adds it (counted and fitted), the adapter sends
    `Draft.text` unchanged, and the lookup finds the post by that same text."""
    from distributor.render import render

    (tmp_path / f"{CHANNEL}.txt.j2").write_text("{{ title }}\n\n{{ link }}\n", encoding="utf-8")
    settings = replace(sandbox_settings, templates_dir=tmp_path)
    d = render(article(), settings.channel(CHANNEL), settings=settings)
    assert d.image is not None and d.text.endswith(f"\n\n© {d.image.credit}")  # no German word
    assert d.length == limits.length("facebook", d.text)
    fb = adapter(settings, CHANNEL)
    since = datetime.now(UTC)
    receipt = fb.publish(d, key="k")
    [post] = sandbox.posts("facebook")
    assert post.text == d.text
    found = fb.lookup(d, key="k", since=since)
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
    for n in range(26):  # other news: another text and another link
        other = _link_draft(sandbox_settings, f"Andere Meldung {n}")
        fb.publish(replace(other, link=f"https://news.example.com/andere/{n}"), key=f"k{n}")
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


def test_no_token_in_logs_urls_or_errors(
    sandbox: Any, sandbox_settings: Any, sandbox_secrets: dict[str, str], caplog: Any, capsys: Any
) -> None:
    token = sandbox_secrets["FACEBOOK_PAGE_TOKEN"]
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "facebook"):
        caplog.set_level(logging.DEBUG, logger=name)
    fb = adapter(sandbox_settings, CHANNEL, timeout=2.0)
    d = _link_draft(sandbox_settings)
    receipt = fb.publish(d, key="k")
    fb.lookup(d, key="k", since=datetime.now(UTC) - timedelta(minutes=1))
    fb.delete(receipt)
    errors: list[str] = []
    for fault in (
        {"kind": "error", "status": 400, "error": "auth"},
        {"kind": "lost", "mode": "504"},
        {"kind": "hang", "seconds": 6},
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
