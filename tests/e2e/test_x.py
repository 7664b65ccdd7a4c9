"""X end to end: the real tweepy (Client v2 + API v1.1 media) against the sandbox's X API."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from image_server import JPEG, image_server
from locations import REPO
from plain_http import adapter, closed_port_url, draft

from distributor.article import Article, Image
from distributor.errors import (
    AuthFailed,
    DuplicateContent,
    MaybeSent,
    NotSent,
    RateLimited,
    Rejected,
)
from distributor.platforms.base import Draft

CHANNEL = "x_main"
X_SECRETS = ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")


@pytest.fixture
def images() -> Iterator[str]:
    with image_server() as base:
        yield base


def _plain(settings: Any) -> Draft:
    return replace(draft(settings, CHANNEL), image=None)


def _linked(settings: Any, url: str, title: str) -> Draft:
    """The fixture article under a URL X recognises (a real TLD), so X rewrites it to t.co."""
    from distributor.render import render

    path = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
    data = {**json.loads(path.read_text(encoding="utf-8")), "url": url, "title": title}
    d = render(Article.from_dict(data), settings.channel(CHANNEL), settings=settings)
    return replace(d, image=None)


def _with_credentials(settings: Any, **values: str) -> Any:
    from distributor.platforms.x import XAdapter
    from distributor.secrets import Secret

    channel = settings.channel(CHANNEL)
    creds = {**settings.credentials(channel)}
    creds.update({role: Secret(value, role) for role, value in values.items()})
    return XAdapter(channel, creds, base_url=settings.base_url(channel), timeout=2.0)


# -- publishing ---------------------------------------------------------------------------
def test_publish_text_link_and_chunked_image_with_alt(
    sandbox: Any, sandbox_settings: Any, images: str
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    d = replace(d, image=Image(f"{images}/img/putin-kim.jpg", d.image.alt, d.image.credit))
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("x")
    assert post.text == d.text and d.link in post.text and receipt.remote_id == post.id
    assert post.account == "1234567890"  # the user id X puts in front of the access token
    [media] = post.data["media"]
    assert media["chunked"] and media["size"] == len(JPEG) and media["media_type"] == "image/jpeg"
    assert media["category"] == "tweet_image" and media["api"] == "v1.1"
    assert d.image.alt in media["alt"] and d.image.credit in media["alt"]
    # X shows the link (a real TLD) as t.co and appends the media's own t.co link.
    before, after = post.text.split(d.link)
    shown = rf"{re.escape(before)}https://t\.co/\w+{re.escape(after)} https://t\.co/\w+"
    assert re.fullmatch(shown, post.data["display_text"])
    calls = [(r["path"], r["status"]) for r in sandbox.requests("x")]
    assert calls == [
        ("/1.1/media/upload.json", 202),  # INIT
        ("/1.1/media/upload.json", 204),  # APPEND
        ("/1.1/media/upload.json", 201),  # FINALIZE
        ("/1.1/media/metadata/create.json", 200),
        ("/2/tweets", 201),
    ]
    assert receipt.url == f"https://x.com/i/web/status/{post.id}"
    assert receipt.posted_at is not None  # read from the snowflake id
    assert abs(receipt.posted_at.timestamp() - post.created_at) < 1.0
    assert receipt.extra["rate_remaining"] == "99"  # default window: 100 per 15 minutes
    reset = datetime.fromisoformat(receipt.extra["rate_reset"])
    assert timedelta(minutes=14) < reset - datetime.now(UTC) <= timedelta(minutes=15, seconds=2)


def test_unfetchable_image_posts_text_only(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    d = replace(d, image=Image(closed_port_url("img") + "/a.jpg", d.image.alt, d.image.credit))
    adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    [post] = sandbox.posts("x")
    assert post.data["media"] == [] and post.text == d.text


def test_x_shows_tco_links_and_lookup_matches_modulo_tco(
    sandbox: Any, sandbox_settings: Any
) -> None:
    url = "https://www.news-example.de/politik/putin-kim-100000-soldaten"
    d = _linked(sandbox_settings, url, "Putin & Kim: 100.000 Soldaten <Analyse>")
    other = _linked(sandbox_settings, url + "-update", "Putin & Kim: 100.000 Soldaten <Analyse>")
    xa = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    receipt = xa.publish(d, key="k")
    [post] = sandbox.posts("x")
    shown = post.data["display_text"]
    assert d.link in post.text and d.link not in shown and "https://t.co/" in shown
    assert "Putin &amp; Kim" in shown and "&lt;Analyse&gt;" in shown  # X HTML-escapes
    found = xa.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == receipt.remote_id
    assert found.posted_at is not None and found.posted_at >= since - timedelta(seconds=1)
    assert xa.lookup(other, key="k2", since=since) is None  # same text, another link


# -- reconciliation -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_answer_is_maybe_sent_and_lookup_finds_the_tweet(
    sandbox: Any, sandbox_settings: Any, mode: str
) -> None:
    d = _plain(sandbox_settings)
    xa = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="x", route="create", kind="lost", mode=mode, count=1)
    with pytest.raises(MaybeSent):
        xa.publish(d, key="k")
    [post] = sandbox.posts("x")
    found = xa.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id
    with pytest.raises(DuplicateContent):  # why a blind resend is never the answer on X
        xa.publish(d, key="k")
    assert len(sandbox.posts("x")) == 1


def test_lookup_is_none_when_absent_or_older(sandbox: Any, sandbox_settings: Any) -> None:
    d = _plain(sandbox_settings)
    xa = adapter(sandbox_settings, CHANNEL, user_id="1234567890")
    assert xa.lookup(d, key="k", since=datetime.now(UTC) - timedelta(hours=1)) is None
    xa.publish(d, key="k")
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert xa.lookup(d, key="k", since=later) is None
    assert [r["route"] for r in sandbox.requests("x")].count("verify") == 0  # user_id option


def test_delete_and_verify(sandbox: Any, sandbox_settings: Any) -> None:
    xa = adapter(sandbox_settings, CHANNEL)
    receipt = xa.publish(_plain(sandbox_settings), key="k")
    xa.delete(receipt)
    xa.delete(receipt)  # 404: already gone is fine
    assert sandbox.posts("x") == []
    info = xa.verify()
    assert info.account_id == "1234567890" and info.name.startswith("@sandbox_")
    assert xa.publish(_plain(sandbox_settings), key="k2").url.startswith("https://x.com/sandbox_")


# -- every failure is exactly one error class ---------------------------------------------
def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    from distributor.platforms.x import XAdapter

    channel = sandbox_settings.channel(CHANNEL)
    creds = sandbox_settings.credentials(channel)
    xa = XAdapter(channel, creds, base_url=closed_port_url("x"), timeout=2.0)
    with pytest.raises(NotSent) as info:
        xa.publish(_plain(sandbox_settings), key="k")
    assert type(info.value) is NotSent


@pytest.mark.parametrize("kind", ["hang", "reset"])
def test_hang_or_reset_after_sending_is_maybe_sent(
    sandbox: Any, sandbox_settings: Any, kind: str
) -> None:
    sandbox.faults.add(platform="x", route="create", kind=kind, seconds=6, count=1)
    with pytest.raises(MaybeSent):
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(_plain(sandbox_settings), key="k")
    assert sandbox.posts("x") == []


def test_media_upload_failure_is_not_sent(sandbox: Any, sandbox_settings: Any, images: str) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    d = replace(d, image=Image(f"{images}/img/a.jpg", d.image.alt, d.image.credit))
    sandbox.faults.add(platform="x", route="media", kind="hang", seconds=6, count=1)
    with pytest.raises(NotSent) as info:  # an unattached upload is invisible
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(d, key="k")
    assert type(info.value) is NotSent and sandbox.posts("x") == []


def test_rate_limit_reads_the_epoch_reset(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="x", route="create", kind="rate_limit", seconds=600, count=1)
    with pytest.raises(RateLimited) as info:
        adapter(sandbox_settings, CHANNEL).publish(_plain(sandbox_settings), key="k")
    assert 590 <= info.value.retry_after <= 601
    reset = info.value.reset_at
    assert reset is not None and reset.microsecond == 0  # an epoch second, as X sends it
    assert sandbox.posts("x") == []


def test_window_limit_counts_down_then_refuses(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.set_limit("x", "create", limit=2, window=30.0)
    xa = adapter(sandbox_settings, CHANNEL)
    first = xa.publish(_plain(sandbox_settings), key="k1")
    second = xa.publish(_linked(sandbox_settings, "https://a.example.com/x", "Zwei"), key="k2")
    assert (first.extra["rate_remaining"], second.extra["rate_remaining"]) == ("1", "0")
    with pytest.raises(RateLimited) as info:
        xa.publish(_linked(sandbox_settings, "https://a.example.com/y", "Drei"), key="k3")
    assert 0 < info.value.retry_after <= 31 and len(sandbox.posts("x")) == 2


def test_daily_cap_outlasts_the_window() -> None:
    from distributor.platforms.x import rate_extra, rate_wait

    now = datetime.now(UTC).timestamp()
    headers = {
        "x-rate-limit-remaining": "40",
        "x-rate-limit-reset": str(int(now + 600)),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(now + 20000)),
    }
    wait, reset = rate_wait(headers)
    assert 19990 <= wait <= 20000 and reset is not None
    assert rate_extra(headers)["rate_remaining"] == "0"
    assert rate_wait({}) == (900.0, None)


def test_auth_errors(sandbox: Any, sandbox_settings: Any) -> None:
    d = _plain(sandbox_settings)
    sandbox.faults.add(platform="x", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed):
        adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    with pytest.raises(AuthFailed):  # the emulator's own check of the token
        _with_credentials(sandbox_settings, access_token="99-invalid-token").publish(d, key="k")
    with pytest.raises(AuthFailed, match="oauth1 app permissions"):  # read-only app
        _with_credentials(sandbox_settings, access_token="99-readonly-token").publish(d, key="k")
    assert sandbox.posts("x") == []


def test_lookup_without_read_access_is_rejected_not_auth_failed(
    sandbox: Any, sandbox_settings: Any
) -> None:
    xa = _with_credentials(sandbox_settings, access_token="99-noread-token")
    d = _plain(sandbox_settings)
    xa.publish(d, key="k")  # posting works: the credentials are fine
    with pytest.raises(Rejected, match="attached to a Project") as info:
        xa.lookup(d, key="k", since=datetime.now(UTC))
    assert type(info.value) is Rejected and info.value.status == 403


def test_duplicate_and_forbidden(sandbox: Any, sandbox_settings: Any) -> None:
    d = _plain(sandbox_settings)
    xa = adapter(sandbox_settings, CHANNEL)
    xa.publish(d, key="k")
    with pytest.raises(DuplicateContent, match="duplicate content"):
        xa.publish(d, key="k")
    sandbox.faults.add(platform="x", route="create", kind="error", status=403, count=1)
    with pytest.raises(Rejected) as info:
        xa.publish(_linked(sandbox_settings, "https://b.example.com/", "Neu"), key="k2")
    assert type(info.value) is Rejected and info.value.status == 403


def test_a_duplicate_is_a_kept_post_of_the_last_day(
    sandbox: Any, sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _plain(sandbox_settings)
    xa = adapter(sandbox_settings, CHANNEL)
    first = xa.publish(d, key="k")
    monkeypatch.setattr(sandbox.state, "posts", lambda *a, **k: pytest.fail("read every post"))
    with pytest.raises(DuplicateContent):
        xa.publish(d, key="k")
    xa.delete(first)  # a deleted post is no duplicate
    again = xa.publish(d, key="k")
    kept = sandbox.state.find("x", again.remote_id)
    kept.created_at -= 25 * 3600  # posted more than a day ago: the same text may go again
    assert xa.publish(d, key="k").remote_id not in (first.remote_id, again.remote_id)


@pytest.mark.parametrize(
    "text", ["ä" * 281, "日本語" * 47, "x " * 128 + "https://example.com " * 2]
)
def test_over_length_is_rejected(sandbox: Any, sandbox_settings: Any, text: str) -> None:
    from distributor.limits import length

    assert length("x", text) > 280
    with pytest.raises(Rejected, match="too long") as info:
        adapter(sandbox_settings, CHANNEL).publish(
            replace(_plain(sandbox_settings), text=text), key="k"
        )
    assert info.value.status == 400 and sandbox.posts("x") == []


def test_exactly_280_weighted_is_accepted(sandbox: Any, sandbox_settings: Any) -> None:
    from distributor.limits import length

    text = "日" * 100 + "a" * 56 + " https://example.com/" + "x" * 300  # 200 + 56 + 1 + 23
    assert length("x", text) == 280
    adapter(sandbox_settings, CHANNEL).publish(
        replace(_plain(sandbox_settings), text=text), key="k"
    )
    assert len(sandbox.posts("x")) == 1


@pytest.mark.parametrize("error", ["server", "html"])
def test_503_on_create_is_maybe_sent(sandbox: Any, sandbox_settings: Any, error: str) -> None:
    """A 5xx answer comes after X read the request: the tweet may exist, so reconcile."""
    d = _plain(sandbox_settings)
    xa = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="x", route="create", kind="error", status=503, error=error, count=1)
    with pytest.raises(MaybeSent) as info:
        xa.publish(d, key="k")
    assert info.value.status == 503
    assert xa.lookup(d, key="k", since=since) is None  # here it was not: resending is safe


def test_503_on_lookup_is_not_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="x", route="lookup", kind="error", status=503, count=1)
    xa = adapter(sandbox_settings, CHANNEL, user_id="1234567890")
    with pytest.raises(NotSent) as info:
        xa.lookup(_plain(sandbox_settings), key="k", since=datetime.now(UTC))
    assert type(info.value) is NotSent


# -- secrets ------------------------------------------------------------------------------
def test_no_secret_in_debug_logs_or_errors(
    sandbox: Any,
    sandbox_settings: Any,
    sandbox_secrets: dict[str, str],
    images: str,
    caplog: Any,
    capsys: Any,
) -> None:
    for name in ("", "tweepy", "requests_oauthlib", "oauthlib", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    d = replace(d, image=Image(f"{images}/img/a.jpg", d.image.alt, d.image.credit))
    xa = adapter(sandbox_settings, CHANNEL, timeout=2.0)
    errors: list[str] = [repr(xa.publish(d, key="k"))]
    faults: list[dict[str, Any]] = [
        {"kind": "error", "status": 401},
        {"kind": "error", "status": 403, "error": "duplicate"},
        {"kind": "rate_limit", "seconds": 60},
        {"kind": "hang", "seconds": 6},
        {"kind": "reset"},
    ]
    for fault in faults:
        sandbox.faults.add(platform="x", route="create", count=1, **fault)
        with pytest.raises(Exception) as info:
            xa.publish(_plain(sandbox_settings), key="k")
        errors.append(str(info.value) + repr(info.value.__context__) + repr(info.value.__cause__))
    out = capsys.readouterr()
    logged = caplog.text
    assert "Updated headers" in logged and "OAuth oauth_nonce" in logged  # DEBUG was on
    assert "Making API request" in logged
    everything = logged + out.out + out.err + "\n".join(errors)
    for name in X_SECRETS:
        value = sandbox_secrets[name]
        assert value not in everything and quote(value, safe="") not in everything, name
