"""Reconcile's lookups must page back far enough to *prove* a post absent. The chaos soak found
LinkedIn reading only the 20 newest posts and Threads only 25: an older post of ours was
"absent" and sent again (LinkedIn's duplicate check refused it; Threads showed it twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from distributor.config import Settings
from distributor.errors import MaybeSent
from distributor.platforms.base import Draft
from distributor.platforms.linkedin import LOOKUP_PAGE_SIZE, LOOKUP_PAGES
from distributor.platforms.registry import build_adapter
from distributor.sandbox import Sandbox

CHANNELS = {
    "linkedin": "linkedin_org",
    "threads": "threads_main",
    "mastodon": "mastodon_main",
    "bluesky": "bluesky_main",
}


def draft(n: int, platform: str = "linkedin") -> Draft:
    return Draft(
        channel=CHANNELS[platform],
        platform=platform,
        article_id=f"a{n}",
        text=f"Meldung {n}: der Landtag beschließt https://news.example/{n}?a=1&b=2",
        link=f"https://news.example/{n}?a=1&b=2",
        title=f"Meldung {n}",
    )


def test_linkedin_lookup_finds_our_post_behind_many_newer_ones(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    adapter = build_adapter(sandbox_settings.channel("linkedin_org"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    ours = adapter.publish(draft(0), key="k0")
    for n in range(1, 46):  # more than two of the old 20-post pages
        adapter.publish(draft(n), key=f"k{n}")
    found = adapter.lookup(draft(0), key="k0", since=since)
    assert found is not None and found.remote_id == ours.remote_id
    assert adapter.lookup(draft(99), key="k99", since=since) is None  # absent: proven


def test_linkedin_lookup_that_cannot_reach_back_is_not_proof(
    sandbox: Sandbox, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import distributor.platforms.linkedin as linkedin

    monkeypatch.setattr(linkedin, "LOOKUP_PAGE_SIZE", 2)
    adapter = build_adapter(sandbox_settings.channel("linkedin_org"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    for n in range(1, 2 * LOOKUP_PAGES + 2):
        adapter.publish(draft(n), key=f"k{n}")
    with pytest.raises(MaybeSent, match="cannot prove the post is absent"):
        adapter.lookup(draft(0), key="k0", since=since)
    assert LOOKUP_PAGE_SIZE * LOOKUP_PAGES >= 500


def test_threads_lookup_follows_the_cursor_behind_a_full_page(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    from distributor.platforms import threads

    adapter = build_adapter(sandbox_settings.channel("threads_main"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    ours = adapter.publish(draft(0, "threads"), key="k0")
    for n in range(1, threads.LOOKUP_PAGE_SIZE + 6):
        adapter.publish(draft(n, "threads"), key=f"k{n}")
    found = adapter.lookup(draft(0, "threads"), key="k0", since=since)
    assert found is not None and found.remote_id == ours.remote_id
    assert adapter.lookup(draft(999, "threads"), key="k999", since=since) is None


def test_mastodon_lookup_pages_back_by_the_link_header(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    """Mastodon answers at most 40 statuses a page: ours behind 45 newer ones is found by
    following `max_id` from the Link header, and a link nobody posted is proven absent."""
    adapter = build_adapter(sandbox_settings.channel("mastodon_main"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    ours = adapter.publish(draft(0, "mastodon"), key="k0")
    for n in range(1, 46):
        adapter.publish(draft(n, "mastodon"), key=f"k{n}")
    found = adapter.lookup(draft(0, "mastodon"), key="k0", since=since)
    assert found is not None and found.remote_id == ours.remote_id
    pages = [r for r in sandbox.requests("mastodon") if r.get("route") == "lookup"]
    assert len(pages) == 2  # two pages of 40
    assert adapter.lookup(draft(99, "mastodon"), key="k99", since=since) is None


def test_mastodon_lookup_that_cannot_reach_back_is_not_proof(
    sandbox: Sandbox, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import distributor.platforms.mastodon as mastodon

    monkeypatch.setattr(mastodon, "LOOKUP_PAGE_SIZE", 2)
    monkeypatch.setattr(mastodon, "LOOKUP_PAGES", 3)
    adapter = build_adapter(sandbox_settings.channel("mastodon_main"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    for n in range(1, 8):
        adapter.publish(draft(n, "mastodon"), key=f"k{n}")
    with pytest.raises(MaybeSent, match="cannot prove the post is absent"):
        adapter.lookup(draft(0, "mastodon"), key="k0", since=since)


def test_bluesky_scan_follows_the_cursor_back_to_the_send(
    sandbox: Sandbox, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the record named by the delivery's rkey is absent, the scan of our records pages
    with listRecords' cursor; a scan that cannot reach back to the send proves nothing."""
    import distributor.platforms.bluesky as bluesky

    monkeypatch.setattr(bluesky, "LOOKUP_PAGE_SIZE", 5)
    adapter = build_adapter(sandbox_settings.channel("bluesky_main"), sandbox_settings)
    since = datetime.now(UTC) - timedelta(minutes=1)
    ours = adapter.publish(draft(0, "bluesky"), key="k0")
    for n in range(1, 12):
        adapter.publish(draft(n, "bluesky"), key=f"k{n}")
    found = adapter.lookup(draft(0, "bluesky"), key="another-key", since=since)
    assert found is not None and found.remote_id == ours.remote_id
    assert adapter.lookup(draft(99, "bluesky"), key="k99", since=since) is None
    monkeypatch.setattr(bluesky, "LOOKUP_PAGES", 2)
    with pytest.raises(MaybeSent, match="cannot prove the post is absent"):
        adapter.lookup(draft(99, "bluesky"), key="k99", since=since)
