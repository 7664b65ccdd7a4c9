"""Threads end to end: the real adapter (plain requests) against the sandbox's Threads API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from plain_http import adapter, closed_port_url, draft

from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected

CHANNEL = "threads_main"


def _user(settings: Any) -> str:
    return str(settings.channel(CHANNEL).options["user_id"])


def test_publish_image_post_in_two_steps(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("threads")
    assert post.text == d.text
    assert post.account == _user(sandbox_settings)
    assert post.data["media_type"] == "IMAGE"
    assert post.data["image_url"] == d.image.url
    assert receipt.remote_id == post.id
    assert receipt.extra["container_id"] == post.data["container_id"]
    assert receipt.url and receipt.url.startswith("https://www.threads.net/@")
    routes = [r["route"] for r in sandbox.requests("threads")]
    assert routes[:3] == ["create", "status", "publish"]


def test_text_post_carries_the_link_attachment(sandbox: Any, sandbox_settings: Any) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("threads")
    assert (post.data["media_type"], post.data["link_attachment"]) == ("TEXT", d.link)


def test_publish_retry_reuses_the_container(sandbox: Any, sandbox_settings: Any) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    th = adapter(sandbox_settings, CHANNEL)
    sandbox.faults.add(platform="threads", route="publish", kind="rate_limit", seconds=300, count=1)
    with pytest.raises(RateLimited) as info:
        th.publish(d, key="k")
    assert info.value.retry_after == 300  # estimated_time_to_regain_access: 5 minutes
    receipt = th.publish(d, key="k")
    creates = [r for r in sandbox.requests("threads") if r["route"] == "create"]
    assert len(creates) == 1
    assert len(sandbox.posts("threads")) == 1
    assert receipt.extra["container_id"]


def test_lookup_delete_verify(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    th = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    assert th.lookup(d, key="k", since=since) is None
    receipt = th.publish(d, key="k")
    found = th.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == receipt.remote_id
    th.delete(receipt)
    assert sandbox.posts("threads") == []
    assert th.lookup(d, key="k", since=since) is None
    info = th.verify()
    assert info.url == "https://www.threads.net/@distributor.sandbox"


def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    from distributor.platforms.threads import ThreadsAdapter

    channel = sandbox_settings.channel(CHANNEL)
    th = ThreadsAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("threads")
    )
    with pytest.raises(NotSent):
        th.publish(draft(sandbox_settings, CHANNEL), key="k")


def test_container_failure_is_not_sent_but_publish_hang_is_maybe_sent(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    th = adapter(sandbox_settings, CHANNEL, timeout=2.0)
    sandbox.faults.add(platform="threads", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(NotSent) as info:
        th.publish(d, key="a")
    assert type(info.value) is NotSent
    sandbox.faults.add(platform="threads", route="publish", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent):
        th.publish(d, key="b")


def test_a_5xx_on_container_creation_is_not_sent_with_status_and_code(
    sandbox: Any, sandbox_settings: Any
) -> None:
    """As on Instagram: only an unpublished container can exist, so NotSent, and the answer's
    status and Graph code stay on the error (the post log shows them)."""
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    sandbox.faults.add(platform="threads", route="create", kind="error", status=503, count=1)
    with pytest.raises(NotSent) as info:
        adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    assert type(info.value) is NotSent
    assert (info.value.status, info.value.code) == (503, "2")
    assert info.value.detail.startswith("container: ") and "may exist" not in info.value.detail
    assert sandbox.posts("threads") == []


def test_lost_publish_is_maybe_sent_and_lookup_finds_it(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    th = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="threads", route="publish", kind="lost", mode="reset", count=1)
    with pytest.raises(MaybeSent):
        th.publish(d, key="k")
    [post] = sandbox.posts("threads")
    found = th.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id


def test_auth_and_validation_errors(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    th = adapter(sandbox_settings, CHANNEL)
    sandbox.faults.add(platform="threads", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed, match=r"\(190\)"):
        th.publish(d, key="k")
    too_long = replace(d, text="x" * 501)
    with pytest.raises(Rejected, match="at most 500"):
        th.publish(too_long, key="k2")
    assert sandbox.posts("threads") == []
