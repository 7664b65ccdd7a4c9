"""Pinterest end to end: the real adapter (plain requests) against the sandbox's API v5."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from plain_http import adapter, article, closed_port_url, draft

from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platform import load, spec
from distributor.platforms.pinterest import alt_text, rate_wait
from distributor.post import Draft
from distributor.sandbox import Sandbox

CHANNEL = "pinterest_board"
BOARD = "549755885175"


def pin_draft(settings: Any, n: int) -> Draft:
    """A small Pin for article `n` (its own link, the fixture's image)."""
    d = draft(settings, CHANNEL)
    return replace(d, link=f"https://news.example/{n}?a=1&b=2", text=f"Meldung {n}", title=f"M {n}")


def test_publish_sends_every_pin_field_and_lookup_finds_it(
    sandbox: Sandbox, sandbox_settings: Any
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    pins = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC) - timedelta(minutes=1)
    receipt = pins.publish(d, key="k1")
    [post] = sandbox.posts("pinterest")
    assert post.account == BOARD
    assert post.text == d.text  # the description is the rendered, fitted text
    assert post.data["title"] == d.title == article().title  # 89 characters: kept whole
    assert post.data["link"] == d.link and "utm_" not in d.text
    assert d.image is not None
    assert post.data["alt_text"] == d.image.alt
    assert post.data["media_source"] == {"source_type": "image_url", "url": d.image.url}
    assert "Foto: Stadtverwaltung/Planungsbüro Brückner" in d.text  # German template, credit
    assert (receipt.remote_id, receipt.url) == (
        post.id,
        f"https://www.pinterest.com/pin/{post.id}/",
    )
    found = pins.lookup(d, key="k1", since=since)
    assert found is not None and found.remote_id == receipt.remote_id


def test_long_title_is_shortened_at_a_word_to_100(sandbox: Sandbox, sandbox_settings: Any) -> None:
    from distributor.render import render

    long = replace(article(), title="Stadtrat " + "beschließt Radbrücke über den Neckar " * 5)
    d = render(long, sandbox_settings.channel(CHANNEL), settings=sandbox_settings)
    assert len(d.title) <= 100 and d.title.endswith(" …")
    assert long.title.startswith(d.title.removesuffix(" …"))
    adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    assert sandbox.posts("pinterest")[0].data["title"] == d.title  # the emulator accepted it


def test_article_without_image_is_skipped_at_plan_time(
    sandbox_settings: Any, tmp_path: Any
) -> None:
    from distributor.planning import publish
    from distributor.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        report = publish(
            replace(article(), image=None),
            config=sandbox_settings,
            channels=[CHANNEL, "mastodon_main"],
            store=store,
        )
    finally:
        store.close()
    [plan] = report.plans
    assert plan.error is None
    assert [d.channel for d in plan.created] == ["mastodon_main"]  # the others still go
    assert plan.skipped == ((CHANNEL, "pinterest posts need an image and the article has none"),)


def test_draft_without_image_is_refused_before_any_request(
    sandbox: Sandbox, sandbox_settings: Any
) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), image=None)
    with pytest.raises(Rejected, match="needs an image"):
        adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    assert sandbox.requests("pinterest") == []


def test_delete_and_verify(sandbox: Sandbox, sandbox_settings: Any) -> None:
    pins = adapter(sandbox_settings, CHANNEL)
    receipt = pins.publish(draft(sandbox_settings, CHANNEL), key="k")
    pins.delete(receipt)
    assert sandbox.posts("pinterest") == []
    with pytest.raises(Rejected, match="Pin not found"):
        pins.delete(receipt)
    info = pins.verify()
    assert (info.account_id, info.name) == (BOARD, "sandboxnews / Sandbox News")


@pytest.mark.parametrize(
    ("status", "kind", "error", "match"),
    [
        (401, "auth", AuthFailed, "Authentication failed"),
        (403, "forbidden", AuthFailed, "pins:write"),
        (404, "not_found", Rejected, "board_id"),
        (400, "invalid", Rejected, r"\(1\) Invalid request"),
        (500, "server", MaybeSent, "the Pin may exist"),
        (502, "html", MaybeSent, "HTTP 502"),
    ],
)
def test_errors_map_into_the_tree(
    sandbox: Sandbox,
    sandbox_settings: Any,
    sandbox_secrets: dict[str, str],
    status: int,
    kind: str,
    error: type[Exception],
    match: str,
) -> None:
    sandbox.faults.add(platform="pinterest", route="create", status=status, error=kind, count=1)
    with pytest.raises(error, match=match) as info:
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")
    assert type(info.value) is error
    assert sandbox_secrets["PINTEREST_ACCESS_TOKEN"] not in str(info.value)
    assert sandbox.posts("pinterest") == []


def test_429_waits_for_the_reset(sandbox: Sandbox, sandbox_settings: Any) -> None:
    sandbox.faults.add(
        platform="pinterest", route="create", kind="rate_limit", seconds=120, count=1
    )
    with pytest.raises(RateLimited, match="exceeded your rate limit") as info:
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")
    assert 115 <= info.value.retry_after <= 121


def test_route_limit_sends_rate_headers_and_refuses(
    sandbox: Sandbox, sandbox_settings: Any
) -> None:
    sandbox.set_limit("pinterest", "create", 1, 600.0)
    pins = adapter(sandbox_settings, CHANNEL)
    pins.publish(pin_draft(sandbox_settings, 1), key="k1")
    with pytest.raises(RateLimited) as info:
        pins.publish(pin_draft(sandbox_settings, 2), key="k2")
    assert 590 <= info.value.retry_after <= 600
    assert len(sandbox.posts("pinterest")) == 1


def test_rate_wait_reads_retry_after_then_the_reset_header() -> None:
    assert rate_wait({"retry-after": "30", "x-ratelimit-reset": "900"}) == 30
    assert rate_wait({"x-ratelimit-reset": "45"}) == 45
    assert 290 <= rate_wait({"x-ratelimit-reset": str(int(time.time()) + 300)}) <= 300
    assert rate_wait({"x-ratelimit-reset": "soon"}) == 60
    assert rate_wait({}) == 60


def test_alt_text_is_cut_at_a_word_within_500() -> None:
    long = "Brücke über den Neckar " * 40
    cut = alt_text(long)
    assert len(cut) <= 500 and cut.endswith("…")
    assert long.startswith(cut[:-1] + " ")  # whole words only
    assert alt_text("  kurz \n und gut ") == "kurz und gut"


def test_emulator_refuses_a_pin_without_image_or_with_a_long_title(
    sandbox: Sandbox, sandbox_secrets: dict[str, str]
) -> None:
    url = sandbox.base_url("pinterest") + "/v5/pins"
    headers = {"Authorization": "Bearer " + sandbox_secrets["PINTEREST_ACCESS_TOKEN"]}
    image = {"source_type": "image_url", "url": "https://news.example/a.jpg"}
    for body in (
        {"board_id": BOARD},
        {"board_id": BOARD, "media_source": image, "title": "x" * 101},
    ):
        answer = requests.post(url, json=body, headers=headers, timeout=5)
        assert answer.status_code == 400 and answer.json()["code"] == 1
    assert sandbox.posts("pinterest") == []


@pytest.mark.parametrize(("fault", "error"), [("refused", NotSent), ("hang", MaybeSent)])
def test_transport_failures(
    sandbox: Sandbox, sandbox_settings: Any, fault: str, error: type[Exception]
) -> None:
    """Nothing listening: proven not sent. No answer after the request: the Pin may exist."""
    channel = sandbox_settings.channel(CHANNEL)
    sandbox.faults.add(platform="pinterest", route="create", kind="hang", seconds=6, count=1)
    base = closed_port_url("pinterest") if fault == "refused" else sandbox.base_url("pinterest")
    cls = load(spec("pinterest").adapter)
    pins = cls(channel, sandbox_settings.credentials(channel), base_url=base, timeout=2.0)
    with pytest.raises(error) as info:
        pins.publish(draft(sandbox_settings, CHANNEL), key="k")
    assert type(info.value) is error


@pytest.mark.parametrize("mode", ["reset", "504"])
def test_lost_answer_is_maybe_sent_and_lookup_finds_the_pin(
    sandbox: Sandbox, sandbox_settings: Any, mode: str
) -> None:
    d = draft(sandbox_settings, CHANNEL)
    pins = adapter(sandbox_settings, CHANNEL)
    since = datetime.now(UTC)
    sandbox.faults.add(platform="pinterest", route="create", kind="lost", mode=mode, count=1)
    with pytest.raises(MaybeSent):
        pins.publish(d, key="k")
    [post] = sandbox.posts("pinterest")
    found = pins.lookup(d, key="k", since=since)
    assert found is not None and found.remote_id == post.id


@pytest.fixture
def board(sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`board(pages, size, pins)`: the adapter reading at most `pages` pages of `size`, after
    Pins 1..`pins` were saved (newest last)."""
    import distributor.platforms.pinterest as pinterest

    def make(pages: int, size: int, pins: int) -> Any:
        monkeypatch.setattr(pinterest, "LOOKUP_PAGES", pages)
        monkeypatch.setattr(pinterest, "LOOKUP_PAGE_SIZE", size)
        adapter_ = adapter(sandbox_settings, CHANNEL)
        for n in range(1, pins + 1):
            adapter_.publish(pin_draft(sandbox_settings, n), key=f"k{n}")
        return adapter_

    return make


def test_lookup_pages_back_by_bookmark(sandbox: Sandbox, sandbox_settings: Any, board: Any) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    pins = board(5, 3, 8)
    found = pins.lookup(pin_draft(sandbox_settings, 1), key="k1", since=since)
    assert found is not None and found.remote_id == sandbox.posts("pinterest")[0].id
    pages = [r for r in sandbox.requests("pinterest") if r.get("route") == "lookup"]
    assert len(pages) == 3  # 8 Pins, 3 a page, ours the oldest
    assert pins.lookup(pin_draft(sandbox_settings, 99), key="k99", since=since) is None


def test_lookup_that_cannot_reach_back_is_not_proof(sandbox_settings: Any, board: Any) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with pytest.raises(MaybeSent, match="cannot prove the post is absent"):
        board(3, 2, 7).lookup(pin_draft(sandbox_settings, 0), key="k0", since=since)


def test_a_page_older_than_the_send_proves_absence(sandbox_settings: Any, board: Any) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert board(1, 2, 5).lookup(pin_draft(sandbox_settings, 0), key="k0", since=later) is None
