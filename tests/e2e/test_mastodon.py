"""Mastodon end to end: the real adapter (plain requests) against the sandbox's Mastodon API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from image_server import JPEG, image_server
from plain_http import adapter, closed_port_url, draft

from distributor.article import Image
from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platforms.base import Draft
from distributor.platforms.keys import delivery_key

CHANNEL = "mastodon_main"
TOKEN = "mastodon-e2e-secret-token-4711"


@pytest.fixture
def images() -> Iterator[str]:
    with image_server() as base:
        yield base


def _draft(settings: Any, images: str) -> Draft:
    d = draft(settings, CHANNEL)
    assert d.image is not None
    return replace(d, image=Image(f"{images}/img/putin-kim.jpg", d.image.alt, d.image.credit))


def test_publish_with_image_alt_language_and_key(
    sandbox: Any, sandbox_settings: Any, images: str
) -> None:
    d = _draft(sandbox_settings, images)
    key = delivery_key(d.article_id, CHANNEL)
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key=key)
    [post] = sandbox.posts("mastodon")
    assert post.text == d.text and receipt.remote_id == post.id
    assert post.data["idempotency_key"] == key
    assert post.data["language"] == d.language == "de"
    assert post.data["visibility"] == "public"
    [media] = post.data["media"]
    assert d.image is not None and media["description"] == d.image.alt
    assert media["size"] == len(JPEG) and media["content_type"] == "image/jpeg"
    assert receipt.url and receipt.url.endswith(f"/{post.id}")


def test_same_key_gives_the_same_status_and_no_new_post(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    ma = adapter(sandbox_settings, CHANNEL)
    first = ma.publish(d, key="k1")
    again = ma.publish(d, key="k1")
    other = ma.publish(d, key="k2")
    assert first.remote_id == again.remote_id != other.remote_id
    assert len(sandbox.posts("mastodon")) == 2


def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    from distributor.platforms.mastodon import MastodonAdapter

    channel = sandbox_settings.channel(CHANNEL)
    ma = MastodonAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("mastodon")
    )
    with pytest.raises(NotSent):
        ma.publish(replace(draft(sandbox_settings, CHANNEL), image=None), key="k")


def test_hang_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="mastodon", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent):
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(
            replace(draft(sandbox_settings, CHANNEL), image=None), key="k"
        )


def test_rate_limit_reads_the_iso_reset(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="mastodon", route="create", kind="rate_limit", seconds=120, count=1)
    with pytest.raises(RateLimited) as info:
        adapter(sandbox_settings, CHANNEL).publish(
            replace(draft(sandbox_settings, CHANNEL), image=None), key="k"
        )
    assert 110 <= info.value.retry_after <= 121
    assert info.value.reset_at is not None and info.value.reset_at > datetime.now(UTC)
    assert sandbox.posts("mastodon") == []


def test_auth_and_length_errors(sandbox: Any, sandbox_settings: Any) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    ma = adapter(sandbox_settings, CHANNEL)
    sandbox.faults.add(platform="mastodon", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed):
        ma.publish(d, key="k")
    with pytest.raises(Rejected, match="character limit of 500"):
        ma.publish(replace(d, text="ä" * 501), key="k2")
    assert sandbox.posts("mastodon") == []


def test_server_error_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="mastodon", route="create", kind="error", status=503, count=1)
    with pytest.raises(MaybeSent):
        adapter(sandbox_settings, CHANNEL).publish(
            replace(draft(sandbox_settings, CHANNEL), image=None), key="k"
        )


@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_answer_then_resend_with_the_key_finds_the_status(
    sandbox: Any, sandbox_settings: Any, mode: str
) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    ma = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="mastodon", route="create", kind="lost", mode=mode, count=1)
    with pytest.raises(MaybeSent):
        ma.publish(d, key="k")
    [post] = sandbox.posts("mastodon")
    assert ma.publish(d, key="k").remote_id == post.id
    assert len(sandbox.posts("mastodon")) == 1
    found = ma.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id


def test_delete_verify_and_lookup(sandbox: Any, sandbox_settings: Any) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    ma = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    assert ma.lookup(d, key="k", since=since) is None
    receipt = ma.publish(d, key="k")
    ma.delete(receipt)
    ma.delete(receipt)  # 404: already gone is fine
    assert sandbox.posts("mastodon") == []
    info = ma.verify()
    assert info.account_id and info.name.startswith("@")


def test_no_secret_in_logs_or_output(
    sandbox: Any, sandbox_settings: Any, caplog: Any, capsys: Any, monkeypatch: Any
) -> None:
    from distributor.platforms.mastodon import MastodonAdapter
    from distributor.secrets import Secret

    caplog.set_level(logging.DEBUG)
    channel = sandbox_settings.channel(CHANNEL)
    ma = MastodonAdapter(
        channel,
        {"access_token": Secret(TOKEN, "MASTODON_TOKEN")},
        base_url=sandbox_settings.base_url(channel),
    )
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    ma.publish(d, key="k")
    sandbox.faults.add(platform="mastodon", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed) as info:
        ma.publish(d, key="k2")
    out = capsys.readouterr()
    assert TOKEN not in caplog.text + out.out + out.err + str(info.value)
