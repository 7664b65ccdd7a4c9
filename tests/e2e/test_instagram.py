"""Instagram end to end: the real adapter (plain requests) against the sandbox's Graph API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from plain_http import adapter, article, closed_port_url, draft

from distributor.article import Image
from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platforms.base import Draft, Receipt
from distributor.platforms.instagram import POLL_DEADLINE, InstagramAdapter, is_ours
from distributor.platforms.meta import classify
from distributor.secrets import Secret

CHANNEL = "instagram_main"
USER = "17841400000000002"


def _with_image(d: Draft, url: str) -> Draft:
    assert d.image is not None
    return replace(d, image=replace(d.image, url=url))


def _quick(settings: Any, **options: str) -> InstagramAdapter:
    """The channel's adapter with its pauses recorded instead of slept (a clock that moves)."""
    ig: InstagramAdapter = adapter(settings, CHANNEL, **options)
    now = [0.0]
    ig.clock = lambda: now[0]
    ig.sleep = lambda s: now.__setitem__(0, now[0] + s)
    return ig


def test_publish_makes_a_container_waits_and_publishes(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    receipt = _quick(sandbox_settings).publish(d, key="k")
    [post] = sandbox.posts("instagram")
    assert (post.text, post.account, post.data["image_url"]) == (d.text, USER, d.image.url)
    assert receipt.remote_id == post.id and receipt.extra["container_id"]
    assert receipt.url and receipt.url.startswith("https://www.instagram.com/p/")
    routes = [r["route"] for r in sandbox.requests("instagram")]
    assert routes[:3] == ["create", "status", "publish"]


def test_caption_says_where_the_link_is_and_carries_the_marker(sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert "Link in der Bio: www.tageblatt-beispiel.de/lokales/stadtrat-gibt" in d.text
    assert "https://" not in d.text and "utm_" not in d.text  # nothing a reader cannot click
    assert "Foto: Stadtverwaltung" in d.text  # Instagram has no credit field
    german = _render(sandbox_settings, "de", link_hint="")
    assert "Den Artikel finden Sie über den Link in unserer Bio: www." in german
    english = _render(sandbox_settings, "en", link_hint="")
    assert "Read the full story via the link in our bio: www.tageblatt-beispiel.de/" in english
    assert "Full story: link in bio: www." in _render(
        sandbox_settings, "en", link_hint="Full story: link in bio"
    )
    assert "\n→ www.tageblatt-beispiel.de/" in _render(sandbox_settings, "fr", link_hint="")


def _render(settings: Any, language: str, **options: str) -> str:
    """The fixture article in `language` rendered for the channel with `options` changed
    ("" removes one)."""
    from distributor.render import render

    chan = settings.channel(CHANNEL)
    merged = {k: v for k, v in {**chan.options, **options}.items() if v}
    story = replace(article(), language=language)
    return render(story, replace(chan, options=merged), settings=settings).text


def test_a_slow_container_is_polled_until_finished(sandbox: Any, sandbox_settings: Any) -> None:
    d = _with_image(draft(sandbox_settings, CHANNEL), "https://img.example/slow.jpg")
    _quick(sandbox_settings).publish(d, key="k")
    statuses = [r for r in sandbox.requests("instagram") if r["route"] == "status"]
    assert len(statuses) >= 3 and len(sandbox.posts("instagram")) == 1


def test_a_stuck_container_is_not_sent_within_the_deadline_and_kept(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = _with_image(draft(sandbox_settings, CHANNEL), "https://img.example/stuck.jpg")
    ig = _quick(sandbox_settings)
    with pytest.raises(NotSent, match="still IN_PROGRESS"):
        ig.publish(d, key="k")
    assert ig.clock() <= POLL_DEADLINE
    with pytest.raises(NotSent):
        ig.publish(d, key="k")
    creates = [r for r in sandbox.requests("instagram") if r["route"] == "create"]
    assert len(creates) == 1  # the second attempt waited for the same container
    assert sandbox.posts("instagram") == []


def test_a_failed_container_is_rejected_and_dropped(sandbox: Any, sandbox_settings: Any) -> None:
    d = _with_image(draft(sandbox_settings, CHANNEL), "https://img.example/corrupt.jpg")
    ig = _quick(sandbox_settings)
    with pytest.raises(Rejected, match="ERROR") as info:
        ig.publish(d, key="k")
    assert info.value.code == "ERROR/2207004" and ig.containers == {}
    unreachable = _with_image(d, "https://img.example/unreachable.jpg")
    with pytest.raises(Rejected) as fetched:
        ig.publish(unreachable, key="k2")
    assert fetched.value.code == "9004/2207052"
    assert sandbox.posts("instagram") == []


def test_an_expired_container_is_replaced(
    sandbox: Any, sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _with_image(draft(sandbox_settings, CHANNEL), "https://img.example/stuck.jpg")
    ig = _quick(sandbox_settings)
    with pytest.raises(NotSent):
        ig.publish(d, key="k")
    later = sandbox.state.now() + 25 * 3600
    monkeypatch.setattr(sandbox.state, "now", lambda: later)
    with pytest.raises(NotSent, match="EXPIRED"):
        ig.publish(d, key="k")
    assert ig.containers == {}  # the next attempt makes a new container


def test_lost_publish_answer_is_maybe_sent_and_lookup_finds_it(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    ig = _quick(sandbox_settings)
    since = datetime.now(UTC)
    assert ig.lookup(d, key="k", since=since) is None
    sandbox.faults.add(platform="instagram", route="publish", kind="lost", mode="reset", count=1)
    with pytest.raises(MaybeSent):
        ig.publish(d, key="k")
    assert ig.containers == {}  # never published twice
    [post] = sandbox.posts("instagram")
    found = ig.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id and found.url


def test_publish_timeout_is_maybe_sent_create_timeout_is_not(
    sandbox: Any, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    ig = adapter(sandbox_settings, CHANNEL, timeout=2.0)
    sandbox.faults.add(platform="instagram", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(NotSent) as info:
        ig.publish(d, key="a")
    assert type(info.value) is NotSent
    sandbox.faults.add(platform="instagram", route="publish", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent):
        ig.publish(d, key="b")


def test_lookup_walks_pages_and_stops_at_since(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    ig = _quick(sandbox_settings)
    ig.publish(d, key="k")
    for n in range(60):  # newer posts of other articles push ours to the second page
        sandbox.state.record("instagram", USER, f"Andere Meldung: www.example.de/a/{n}", {})
    found = ig.lookup(d, key="k", since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.remote_id == sandbox.posts("instagram")[0].id
    assert ig.lookup(d, key="k", since=datetime.now(UTC) + timedelta(minutes=1)) is None


def test_marker_matching() -> None:
    d = Draft("c", "instagram", "a", "Text", "https://www.news.de/politik/putin-123?utm_source=ig")
    assert is_ours(d, {"caption": "Titel\n\nLink in bio: www.news.de/politik/putin-123"})
    assert is_ours(d, {"caption": "Link: WWW.NEWS.DE/politik/putin-123/ #Putin"})
    assert not is_ours(d, {"caption": "Link in bio: www.news.de/politik/putin-1234"})
    assert not is_ours(d, {"caption": "Link in bio: www.news.de/politik/putin-123/video"})
    assert is_ours(d, {"caption": "Text"})  # a template without the address: the same text


def test_publishing_limit_is_rate_limited(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    ig = _quick(sandbox_settings)
    now = sandbox.state.now()
    for n in range(50):
        sandbox.state.record("instagram", USER, f"alt {n}", {})
    with pytest.raises(RateLimited) as info:
        ig.publish(d, key="k")
    assert info.value.code == "9/2207042"
    assert 23 * 3600 < info.value.retry_after <= 24 * 3600 + 60  # the oldest post's 24 h
    quota = requests.get(
        f"{sandbox.url}/instagram/v21.0/{USER}/content_publishing_limit",
        params={"access_token": "t"},
        timeout=5,
    ).json()
    assert quota["data"][0]["quota_usage"] == 50 and sandbox.state.now() >= now


def test_not_ready_container_on_publish_is_not_sent(sandbox: Any) -> None:
    base = f"{sandbox.url}/instagram/v21.0/{USER}"
    auth = {"access_token": "t"}
    made = requests.post(
        f"{base}/media", data={**auth, "image_url": "https://i.example/slow.jpg"}, timeout=5
    )
    answer = requests.post(
        f"{base}/media_publish", data={**auth, "creation_id": made.json()["id"]}, timeout=5
    )
    error = classify("instagram", CHANNEL, answer.json(), answer.status_code, answer.headers)
    assert type(error) is NotSent and error.code == "9007/2207027"


def test_captions_over_the_limits_are_refused(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    ig = _quick(sandbox_settings)
    tags = " ".join(f"#Tag{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(31))
    with pytest.raises(Rejected, match="more than 30 hashtags"):
        ig.publish(replace(d, text=f"Titel {tags}"), key="a")
    with pytest.raises(Rejected, match="at most 2200"):
        ig.publish(replace(d, text="x" * 2201), key="b")
    assert sandbox.posts("instagram") == []


def test_auth_verify_delete_and_no_image(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    channel = sandbox_settings.channel(CHANNEL)
    expired = InstagramAdapter(
        channel,
        {"access_token": Secret("IGQ-expired-token", "IG")},
        base_url=sandbox_settings.base_url(channel),
    )
    with pytest.raises(AuthFailed, match="Session has expired") as info:
        expired.publish(d, key="k")
    assert info.value.code == "190/463"
    info_ = adapter(sandbox_settings, CHANNEL).verify()
    assert info_.url == "https://www.instagram.com/tageblatt_beispiel/"
    with pytest.raises(Rejected, match="cannot delete"):
        adapter(sandbox_settings, CHANNEL).delete(Receipt("instagram", "1"))
    with pytest.raises(Rejected, match="needs an image"):
        adapter(sandbox_settings, CHANNEL).publish(replace(d, image=None), key="k")


def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    channel = sandbox_settings.channel(CHANNEL)
    ig = InstagramAdapter(
        channel, sandbox_settings.credentials(channel), base_url=closed_port_url("instagram")
    )
    with pytest.raises(NotSent):
        ig.publish(draft(sandbox_settings, CHANNEL), key="k")


@pytest.mark.parametrize(
    ("status", "kind", "expected", "code"),
    [
        (400, "auth", AuthFailed, "190"),
        (403, "forbidden", AuthFailed, "10"),
        (400, "invalid", Rejected, "100"),
        (429, "server", RateLimited, "4"),
        (500, "server", NotSent, "-1/2207001"),  # the container step: nothing is visible
        (502, "html", NotSent, None),
    ],
)
def test_injected_container_errors(
    sandbox: Any, sandbox_settings: Any, status: int, kind: str, expected: type, code: str | None
) -> None:
    sandbox.faults.add(
        platform="instagram", route="create", kind="error", status=status, error=kind, count=1
    )
    with pytest.raises(expected) as info:
        _quick(sandbox_settings).publish(draft(sandbox_settings, CHANNEL), key="k")
    assert type(info.value) is expected and info.value.code == code


def test_alt_text_goes_with_the_image(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    d = replace(d, image=Image(url="https://i.example/a.jpg", alt="Die Brücke", credit=""))
    _quick(sandbox_settings).publish(d, key="k")
    [create] = [r for r in sandbox.requests("instagram") if r["route"] == "create"]
    assert create["method"] == "POST"
    containers = sandbox.state.kv["instagram"]["containers"]
    assert [c["alt_text"] for c in containers.values()] == ["Die Brücke"]


def test_an_article_without_image_is_refused_at_plan_time(sandbox_settings: Any) -> None:
    from distributor.planning import publish

    story = replace(article(), image=None)
    report = publish(story, config=sandbox_settings, channels=[CHANNEL], dry_run=True)
    [plan] = report.plans
    assert plan.skipped == ((CHANNEL, "instagram posts need an image and the article has none"),)
    assert plan.error is None and not plan.created


def test_the_counter_enforces_the_hashtag_cap_and_fitting_drops_the_extra(
    sandbox_settings: Any,
) -> None:
    from distributor.limits import fits, instagram_hashtags, length
    from distributor.render import render

    tags = [f"Thema{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(40)]
    thirty = " ".join(f"#{t}" for t in tags[:30])
    assert fits("instagram", thirty) and not fits("instagram", f"{thirty} #Noch")
    assert length("instagram", "ä😀") == 3  # UTF-16 code units
    chan = replace(sandbox_settings.channel(CHANNEL), hashtags=40)
    post = render(replace(article(), tags=tags), chan, settings=sandbox_settings)
    assert instagram_hashtags(post.text) == 30 and post.length <= 2200
