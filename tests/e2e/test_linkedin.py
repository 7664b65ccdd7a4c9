"""LinkedIn end to end: the real adapter (plain requests) against the sandbox's Posts API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plain_http import adapter, closed_port_url, draft

from distributor.errors import (
    AuthFailed,
    DuplicateContent,
    MaybeSent,
    NotSent,
    RateLimited,
    Rejected,
)
from distributor.platforms.linkedin import default_version, escape_commentary, until_midnight_utc
from distributor.sandbox.linkedin import read_little_text

CHANNEL = "linkedin_org"


@given(st.text())
def test_escaped_commentary_reads_back_untruncated(text: str) -> None:
    shown, truncated = read_little_text(escape_commentary(text))
    assert (shown, truncated) == (text, False)


def test_hashtags_stay_live_and_lone_hash_is_escaped() -> None:
    assert escape_commentary("#Ukraine (dpa) # 1 @kim_jong") == r"#Ukraine \(dpa\) \# 1 \@kim\_jong"


def test_default_version_is_two_months_back() -> None:
    assert default_version(date(2026, 1, 15)) == "202511"
    assert default_version(date(2026, 11, 25)) == "202609"


def test_publish_article_card(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    li = adapter(sandbox_settings, CHANNEL)
    receipt = li.publish(d, key="k1")
    [post] = sandbox.posts("linkedin")
    assert post.text == d.text  # the escapes were right: nothing was cut
    assert post.data["truncated"] is False
    assert post.data["content"]["article"]["source"] == d.link
    assert post.data["content"]["article"]["title"] == d.title
    assert post.account == sandbox_settings.channel(CHANNEL).options["author"]
    assert receipt.remote_id == f"urn:li:share:{post.id}"
    assert receipt.url == f"https://www.linkedin.com/feed/update/{receipt.remote_id}/"
    found = li.lookup(d, key="k1", since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None
    assert (found.remote_id, found.url) == (receipt.remote_id, receipt.url)


def test_lookup_none_when_absent_or_older(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    li = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    assert li.lookup(d, key="k", since=since) is None
    li.publish(d, key="k")
    assert li.lookup(d, key="k", since=since + timedelta(minutes=5)) is None


def test_delete_and_verify(sandbox: Any, sandbox_settings: Any) -> None:
    li = adapter(sandbox_settings, CHANNEL)
    receipt = li.publish(draft(sandbox_settings, CHANNEL), key="k")
    li.delete(receipt)
    assert sandbox.posts("linkedin") == []
    with pytest.raises(Rejected):
        li.delete(receipt)
    info = li.verify()
    assert (info.platform, info.name) == ("linkedin", "Sandbox News")


def test_duplicate_is_duplicate_content(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    li = adapter(sandbox_settings, CHANNEL)
    first = li.publish(d, key="k")
    with pytest.raises(DuplicateContent, match=first.remote_id):
        li.publish(d, key="k")


def test_sunset_version_is_rejected_naming_the_key(sandbox: Any, sandbox_settings: Any) -> None:
    with pytest.raises(Rejected, match="version = YYYYMM") as info:
        adapter(sandbox_settings, CHANNEL, version="202301").publish(
            draft(sandbox_settings, CHANNEL), key="k"
        )
    assert info.value.status == 426


def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    from distributor.platforms.linkedin import LinkedInAdapter

    channel = sandbox_settings.channel(CHANNEL)
    li = LinkedInAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("linkedin")
    )
    with pytest.raises(NotSent) as info:
        li.publish(draft(sandbox_settings, CHANNEL), key="k")
    assert type(info.value) is NotSent


def test_hang_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="linkedin", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent):
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(
            draft(sandbox_settings, CHANNEL), key="k"
        )


def test_429_waits_until_midnight_utc(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="linkedin", route="create", kind="rate_limit", seconds=60, count=1)
    with pytest.raises(RateLimited, match="TOO_MANY_REQUESTS") as info:
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")
    assert abs(info.value.retry_after - until_midnight_utc()) < 5


def test_401_is_auth_failed(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="linkedin", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed, match="INVALID_ACCESS_TOKEN"):
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")


def test_lost_response_is_maybe_sent_and_lookup_finds_it(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    li = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="linkedin", route="create", kind="lost", mode="504", count=1)
    with pytest.raises(MaybeSent):
        li.publish(d, key="k")
    [post] = sandbox.posts("linkedin")
    found = li.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == f"urn:li:share:{post.id}"
