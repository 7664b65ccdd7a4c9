"""Telegram end to end: the real adapter (plain requests) against the sandbox's Bot API emulator."""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from plain_http import adapter, closed_port_url, draft

from distributor.errors import AuthFailed, MaybeSent, NotSent, PublishError, RateLimited, Rejected
from distributor.platform import Ambiguity
from distributor.platforms.telegram import TelegramAdapter
from distributor.secrets import Secret
from distributor.telegram_html import parse

CHANNEL = "telegram_channel"
TOKEN = "5123456789:AAHsandboxTokenValue_abcdefghijklmnopq"


def _real_token_adapter(settings: Any, base_url: str, timeout: float = 2.0) -> TelegramAdapter:
    channel = settings.channel(CHANNEL)
    return TelegramAdapter(
        channel, {"bot_token": Secret(TOKEN, "TG")}, base_url=base_url, timeout=timeout
    )


def test_publish_photo_with_caption(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.format == "html" and d.image is not None and d.length <= 1024
    receipt = adapter(sandbox_settings, CHANNEL).publish(d, key="k1")
    [post] = sandbox.posts("telegram")
    assert post.text == parse(d.text).text.rstrip()
    assert post.data["photo"] == d.image.url
    assert post.data["parse_mode"] == "HTML"
    assert {"type": "text_link", "url": d.link} in [
        {k: e[k] for k in ("type", "url") if k in e} for e in post.data["entities"]
    ]
    assert receipt.remote_id == post.id
    assert receipt.extra["chat_id"] == post.account


def test_long_text_is_a_message_with_link_preview(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    long = replace(d, text=d.text + "\n" + "<i>" + "Ä" * 1100 + "</i>")
    receipt = adapter(sandbox_settings, CHANNEL, username="@newsroom").publish(long, key="k2")
    [post] = sandbox.posts("telegram")
    assert "photo" not in post.data
    assert post.data["link_preview_options"]["url"] == d.link
    assert post.text.endswith("Ä" * 1100)
    assert receipt.url == f"https://t.me/newsroom/{receipt.remote_id}"


def test_unfetchable_image_falls_back_to_a_message(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    assert d.image is not None
    broken = replace(d, image=replace(d.image, url="https://unreachable.example/x.jpg"))
    adapter(sandbox_settings, CHANNEL).publish(broken, key="k")
    [post] = sandbox.posts("telegram")
    assert "photo" not in post.data
    assert post.data["link_preview_options"]["url"] == d.link
    statuses = [r["status"] for r in sandbox.requests("telegram") if r["route"] == "create"]
    assert statuses == [400, 200]


def test_delete_twice_succeeds_and_other_delete_errors_raise(
    sandbox: Any, sandbox_settings: Any
) -> None:
    tg = adapter(sandbox_settings, CHANNEL)
    receipt = tg.publish(draft(sandbox_settings, CHANNEL), key="k3")
    tg.delete(receipt)
    assert sandbox.posts("telegram") == []
    tg.delete(receipt)  # "message to delete not found": already gone is what delete wants
    sandbox.faults.add(platform="telegram", route="delete", kind="error", status=403, count=1)
    with pytest.raises(Rejected):
        tg.delete(receipt)


def test_verify_reports_bot_and_channel(sandbox_settings: Any, sandbox: Any) -> None:
    info = _real_token_adapter(sandbox_settings, sandbox.base_url("telegram")).verify()
    assert info.platform == "telegram"
    assert "bot @distributor_sandbox_bot" in info.name
    assert info.account_id.startswith("-100")


def test_lookup_is_impossible_so_reconcile_holds(sandbox_settings: Any) -> None:
    tg = adapter(sandbox_settings, CHANNEL)
    assert tg.spec.ambiguity is Ambiguity.HOLD
    with pytest.raises(NotImplementedError, match="human"):
        tg.lookup(draft(sandbox_settings, CHANNEL), key="k", since=datetime.now(UTC))


# -- every error class from a fault ----------------------------------------------------------
def test_connection_refused_is_not_sent(sandbox_settings: Any) -> None:
    with pytest.raises(NotSent) as info:
        _real_token_adapter(sandbox_settings, closed_port_url("telegram")).publish(
            draft(sandbox_settings, CHANNEL), key="k"
        )
    assert type(info.value) is NotSent


def test_hang_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="telegram", route="create", kind="hang", seconds=6, count=1)
    with pytest.raises(MaybeSent, match="read timeout"):
        adapter(sandbox_settings, CHANNEL, timeout=2.0).publish(
            draft(sandbox_settings, CHANNEL), key="k"
        )


def test_429_is_rate_limited_with_retry_after(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="telegram", route="create", kind="rate_limit", seconds=41, count=1)
    with pytest.raises(RateLimited) as info:
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")
    assert 40 <= info.value.retry_after <= 41
    assert "retry after" in str(info.value)
    assert sandbox.posts("telegram") == []


def test_401_and_bad_token_are_auth_failed(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(platform="telegram", route="create", kind="error", status=401, count=1)
    with pytest.raises(AuthFailed, match="Unauthorized"):
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")
    channel = sandbox_settings.channel(CHANNEL)
    bad = TelegramAdapter(
        channel, {"bot_token": Secret("not-a-token", "TG")}, base_url=sandbox.base_url("telegram")
    )
    with pytest.raises(AuthFailed):
        bad.verify()


def test_bot_not_member_is_auth_failed(sandbox: Any, sandbox_settings: Any) -> None:
    tg = adapter(sandbox_settings, CHANNEL, chat_id="@nobot_channel")
    with pytest.raises(AuthFailed, match="not a member"):
        tg.publish(draft(sandbox_settings, CHANNEL), key="k")


def test_bad_request_and_migration_are_rejected(sandbox: Any, sandbox_settings: Any) -> None:
    d = draft(sandbox_settings, CHANNEL)
    with pytest.raises(Rejected, match="chat not found"):
        adapter(sandbox_settings, CHANNEL, chat_id="@missing_channel").publish(d, key="k")
    with pytest.raises(Rejected, match="set chat_id = -1004242"):
        adapter(sandbox_settings, CHANNEL, chat_id="-4242").publish(d, key="k")
    assert sandbox.posts("telegram") == []


def test_invalid_html_is_rejected_with_telegrams_text(sandbox: Any, sandbox_settings: Any) -> None:
    d = replace(draft(sandbox_settings, CHANNEL), text="<b>Kim</b> <p>Putin</p>")
    with pytest.raises(Rejected) as info:
        adapter(sandbox_settings, CHANNEL).publish(d, key="k")
    expected = 'can\'t parse entities: Unsupported start tag "p" at byte offset 11'
    assert expected in str(info.value)
    # the emulator refuses it the same way when a client skips local validation
    url = f"{sandbox.base_url('telegram')}/bot{TOKEN}/sendMessage"
    answer = requests.post(url, json={"chat_id": "@c", "text": d.text, "parse_mode": "HTML"})
    assert answer.status_code == 400
    assert answer.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: " + expected,
    }


def test_too_long_message_is_rejected_by_the_emulator(sandbox: Any) -> None:
    url = f"{sandbox.base_url('telegram')}/bot{TOKEN}/sendMessage"
    answer = requests.post(url, data={"chat_id": "@c", "text": "x" * 4097})
    assert answer.status_code == 400
    assert answer.json()["description"] == "Bad Request: message is too long"
    ok = requests.post(url, data={"chat_id": "@c", "text": "😀" * 2048})  # 4096 UTF-16 units
    assert ok.json()["ok"] is True


def test_lost_response_is_maybe_sent_and_the_post_exists(
    sandbox: Any, sandbox_settings: Any
) -> None:
    for mode in ("reset", "504"):
        sandbox.faults.add(platform="telegram", route="create", kind="lost", mode=mode, count=1)
        with pytest.raises(MaybeSent):
            adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key=mode)
    assert len(sandbox.posts("telegram")) == 2


def test_html_5xx_is_maybe_sent(sandbox: Any, sandbox_settings: Any) -> None:
    sandbox.faults.add(
        platform="telegram", route="create", kind="error", status=502, error="html", count=1
    )
    with pytest.raises(MaybeSent, match="HTTP 502"):
        adapter(sandbox_settings, CHANNEL).publish(draft(sandbox_settings, CHANNEL), key="k")


# -- the token never leaks -------------------------------------------------------------------
def test_token_never_in_errors_or_debug_logs(
    sandbox: Any, sandbox_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    d = draft(sandbox_settings, CHANNEL)
    seen: list[PublishError] = []
    faults: list[dict[str, Any]] = [
        {"kind": "reset"},
        {"kind": "hang", "seconds": 6},
        {"kind": "lost", "mode": "reset"},
        {"kind": "error", "status": 401},
        {"kind": "rate_limit", "seconds": 5},
    ]
    live = _real_token_adapter(sandbox_settings, sandbox.base_url("telegram"), timeout=2.0)
    for fault in faults:
        sandbox.faults.add(platform="telegram", route="create", count=1, **fault)
        with pytest.raises(PublishError) as info:
            live.publish(d, key="k")
        seen.append(info.value)
    with pytest.raises(PublishError) as refused:
        _real_token_adapter(sandbox_settings, closed_port_url("telegram")).publish(d, key="k")
    seen.append(refused.value)
    assert {type(e).__name__ for e in seen} >= {"NotSent", "MaybeSent", "AuthFailed", "RateLimited"}
    texts = [caplog.text, *(str(e) for e in seen)]
    texts += ["".join(traceback.format_exception(e)) for e in seen]
    assert any("/bot" in t for t in [caplog.text]), "urllib3 DEBUG logging was not captured"
    for text in texts:
        assert TOKEN not in text
        assert TOKEN.split(":")[1] not in text
