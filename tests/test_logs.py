"""Logging: JSON lines carry context, and secrets are scrubbed even from third-party loggers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from distributor import logs
from distributor.secrets import Secret


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    yield
    root.handlers[:] = before[0]
    root.setLevel(before[1])


def test_json_lines_carry_delivery_context(restore_root: None) -> None:
    out = io.StringIO()
    log = logs.setup("INFO", "json", stream=out)
    ctx = {
        "delivery_id": 7,
        "article_id": "abc",
        "channel": "x_main",
        "platform": "x",
        "attempt": 2,
        "state": "sent",
        "remote_id": "123",
    }
    log.info("delivery sent", extra={"ctx": ctx})
    line = json.loads(out.getvalue().strip())
    assert line["message"] == "delivery sent"
    assert line["level"] == "info"
    for key, value in ctx.items():
        assert line[key] == value


def test_third_party_debug_lines_are_scrubbed(restore_root: None) -> None:
    out = io.StringIO()
    token = Secret("123456789:AAE-this-is-a-fake-telegram-token-xyz", "TG")
    logs.setup("DEBUG", "console", stream=out)
    tweepy_log = logging.getLogger("distributor.thirdparty")
    tweepy_log.debug(
        "GET https://api.telegram.org/bot%s/sendMessage Authorization: Bearer abcdefghijk",
        token.reveal(),
    )
    try:
        raise RuntimeError(f"failed for {token.reveal()}")
    except RuntimeError:
        tweepy_log.exception("boom")
    text = out.getvalue()
    assert token.reveal() not in text
    assert "abcdefghijk" not in text
    assert "***" in text and "boom" in text


def test_noisy_loggers_stay_at_warning(restore_root: None) -> None:
    out = io.StringIO()
    logs.setup("DEBUG", "console", stream=out)
    logging.getLogger("urllib3.connectionpool").debug("Starting new HTTPS connection")
    assert "Starting new" not in out.getvalue()
    assert logging.getLogger("urllib3").getEffectiveLevel() == logging.WARNING


def test_setup_is_idempotent(restore_root: None) -> None:
    out = io.StringIO()
    logs.setup("INFO", "console", stream=out)
    logs.setup("INFO", "console", stream=out)
    logging.getLogger("distributor").info("once")
    assert out.getvalue().count("once") == 1


def test_unregistered_telegram_token_in_a_bot_url_is_scrubbed() -> None:
    from distributor.redact import scrub

    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
    line = scrub(f"POST https://api.telegram.org/bot{token}/sendMessage failed")
    assert token not in line and "123456789" not in line and "/bot***/sendMessage" in line
