"""Bluesky end to end: the real adapter (plain requests over XRPC) against the sandbox's PDS."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from image_server import JPEG, image_server
from plain_http import adapter, closed_port_url, draft

from distributor.article import Image
from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platforms.base import Draft
from distributor.platforms.keys import TID_SYNTAX, bluesky_tid, delivery_key

CHANNEL = "bluesky_main"
PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def images() -> Iterator[str]:
    with image_server() as base:
        yield base


def _draft(settings: Any, images: str) -> Draft:
    d = draft(settings, CHANNEL)
    assert d.image is not None
    return replace(d, image=Image(f"{images}/img/putin-kim.jpg", d.image.alt, d.image.credit))


def _plain(settings: Any) -> Draft:
    return replace(draft(settings, CHANNEL), image=None)


def test_publish_record_card_thumb_facets_and_rkey(
    sandbox: Any, sandbox_settings: Any, images: str
) -> None:
    d = _draft(sandbox_settings, images)
    key = delivery_key(d.article_id, CHANNEL)
    when = datetime.now(UTC)
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key=key, when=when)
    [post] = sandbox.posts("bluesky")
    record = post.data["record"]
    assert record["text"] == d.text and record["langs"] == ["de"]
    assert post.data["rkey"] == receipt.remote_id == bluesky_tid(key, when)
    assert TID_SYNTAX.fullmatch(receipt.remote_id)
    handle = sandbox_settings.channel(CHANNEL).options["handle"]
    assert receipt.url == f"https://bsky.app/profile/{handle}/post/{receipt.remote_id}"
    external = record["embed"]["external"]
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert (external["uri"], external["title"]) == (d.link, d.title)
    assert external["thumb"]["size"] == len(JPEG)
    assert external["thumb"]["mimeType"] == "image/jpeg"
    raw = d.text.encode("utf-8")
    links = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
    assert links, "the article link must be a clickable facet"
    for facet in links:  # the short display link, linked to the full URL
        index = facet["index"]
        shown = raw[index["byteStart"] : index["byteEnd"]].decode("utf-8")
        assert (shown, facet["features"][0]["uri"]) == (d.link_text, d.link)


def test_images_embed_carries_alt(sandbox: Any, sandbox_settings: Any, images: str) -> None:
    d = _draft(sandbox_settings, images)
    adapter(sandbox_settings, CHANNEL, embed="images").publish(d, key="k")
    [post] = sandbox.posts("bluesky")
    [image] = post.data["record"]["embed"]["images"]
    assert d.image is not None and image["alt"] == d.image.alt
    assert image["image"]["size"] == len(JPEG)


def test_one_login_for_many_posts_and_refresh_on_expiry(
    sandbox: Any, sandbox_settings: Any
) -> None:
    bs = adapter(sandbox_settings, CHANNEL)
    for i in range(3):
        bs.publish(_plain(sandbox_settings), key=f"k{i}")
    routes = [r["route"] for r in sandbox.requests("bluesky")]
    assert routes.count("session") == 1
    emulator_tokens = [t for t in sandbox.state.kv["bluesky"]["tokens"].values()]
    for token in emulator_tokens:
        if token["kind"] == "access":
            token["at"] -= 10_000  # every access JWT is now expired (refresh JWTs are not)
    bs.publish(_plain(sandbox_settings), key="k-after")
    routes = [r["route"] for r in sandbox.requests("bluesky")]
    assert routes.count("refresh") == 1 and routes.count("session") == 1
    assert len(sandbox.posts("bluesky")) == 4


def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    from distributor.platforms.bluesky import BlueskyAdapter

    channel = sandbox_settings.channel(CHANNEL)
    bs = BlueskyAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("bluesky")
    )
    with pytest.raises(NotSent):
        bs.publish(_plain(sandbox_settings), key="k")


def test_hang_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    bs = adapter(sandbox_settings, CHANNEL, timeout=2.0)
    bs.verify()  # log in first: the hang is for the create
    sandbox.faults.add(platform="bluesky", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent):
        bs.publish(_plain(sandbox_settings), key="k")


def test_rate_limit_reads_the_epoch_reset(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="bluesky", route="create", kind="rate_limit", seconds=90, count=1)
    with pytest.raises(RateLimited) as info:
        adapter(sandbox_settings, CHANNEL).publish(_plain(sandbox_settings), key="k")
    assert 85 <= info.value.retry_after <= 92
    assert info.value.code == "RateLimitExceeded"


def test_auth_and_validation_errors(sandbox: Any, sandbox_settings: Any) -> None:
    bs = adapter(sandbox_settings, CHANNEL)
    sandbox.faults.add(platform="bluesky", route="session", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed):
        bs.publish(_plain(sandbox_settings), key="k")
    with pytest.raises(Rejected, match=r"grapheme too big \(maximum 300"):
        bs.publish(replace(_plain(sandbox_settings), text="ä" * 301), key="k2")
    assert sandbox.posts("bluesky") == []


def test_existing_rkey_is_a_500_and_lookup_finds_the_record(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = _plain(sandbox_settings)
    when = datetime.now(UTC)
    first = adapter(sandbox_settings, CHANNEL).publish(d, key="k", when=when)
    with pytest.raises(MaybeSent):  # a fresh process retrying blindly: the PDS answers 500
        adapter(sandbox_settings, CHANNEL).publish(d, key="k", when=when)
    found = adapter(sandbox_settings, CHANNEL).lookup(d, key="k", since=when)
    assert found is not None and found.remote_id == first.remote_id
    assert len(sandbox.posts("bluesky")) == 1


@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_answer_is_maybe_sent_and_lookup_finds_it(
    sandbox: Any, sandbox_settings: Any, mode: str
) -> None:
    d = _plain(sandbox_settings)
    bs = adapter(sandbox_settings, CHANNEL)
    when = datetime.now(UTC)
    bs.verify()
    sandbox.faults.add(platform="bluesky", route="create", kind="lost", mode=mode, count=1)
    with pytest.raises(MaybeSent):
        bs.publish(d, key="k", when=when)
    [post] = sandbox.posts("bluesky")
    found = adapter(sandbox_settings, CHANNEL).lookup(d, key="k", since=when)
    assert found is not None and found.remote_id == post.data["rkey"]


def test_delete_and_verify(sandbox: Any, sandbox_settings: Any) -> None:
    d = _plain(sandbox_settings)
    bs = adapter(sandbox_settings, CHANNEL)
    when = datetime.now(UTC)
    receipt = bs.publish(d, key="k", when=when)
    bs.delete(receipt)
    assert sandbox.posts("bluesky") == []
    assert bs.lookup(d, key="k", since=when + timedelta(hours=1)) is None
    info = bs.verify()
    assert info.account_id.startswith("did:") and info.url


def test_no_secret_in_logs_or_output(
    sandbox: Any, sandbox_settings: Any, caplog: Any, capsys: Any
) -> None:
    from distributor.platforms.bluesky import BlueskyAdapter
    from distributor.secrets import Secret

    caplog.set_level(logging.DEBUG)
    channel = sandbox_settings.channel(CHANNEL)
    bs = BlueskyAdapter(
        channel,
        {"app_password": Secret(PASSWORD, "BSKY_PASSWORD")},
        base_url=sandbox_settings.base_url(channel),
    )
    bs.publish(_plain(sandbox_settings), key="k")
    jwts = [bs._session["accessJwt"], bs._session["refreshJwt"]] if bs._session else []
    sandbox.faults.add(platform="bluesky", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed) as info:
        bs.publish(_plain(sandbox_settings), key="k2")
    out = capsys.readouterr()
    seen = caplog.text + out.out + out.err + str(info.value)
    assert jwts and all(secret not in seen for secret in [PASSWORD, *jwts])
