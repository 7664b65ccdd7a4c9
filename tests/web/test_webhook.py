"""POST /hooks/articles on real uvicorn: what each signed, tampered, stale, replayed, rotated,
oversized or malformed request plans (or does not plan) in the store."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import serve
from hook_helpers import (
    ALLOW_LOOPBACK,
    KEY,
    OLD_KEY,
    PAGE,
    SECRET,
    T0,
    article_body,
    database_url,
    hook_settings_for,
    page_server,
    post,
    signed,
)

from distributor.config import Settings
from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.web.app import create_app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    db = database_url(request.param, tmp_path)
    return hook_settings_for(
        tmp_path, '[webhook]\nmax_body = "16KiB"\n', DISTRIBUTOR_DATABASE_URL=db
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.database_url, clock=FakeClock(T0))
    yield s
    s.close()


@pytest.fixture
def base(settings: Settings, store: Store) -> Iterator[str]:
    with serve(create_app(settings, store=store, clock=FakeClock(T0))) as url:
        yield url


def planned(store: Store) -> list[Any]:
    return store.query(limit=100)[0]


def test_valid_request_plans_every_channel_and_answers_the_ids(base: str, store: Store) -> None:
    body = article_body()
    resp = post(base, body, signed(body, msg_id="msg_1"))
    assert resp.status_code == 202, resp.text
    answer = resp.json()
    rows = {d.id: d for d in planned(store)}
    assert sorted(answer["deliveries"]) == sorted(rows)
    assert {rows[i].channel for i in answer["deliveries"]} == {"masto", "tg"}
    assert {d.state for d in rows.values()} == {State.QUEUED, State.AWAITING_REVIEW}
    assert answer["webhook_id"] == "msg_1"
    assert {d.article_id for d in rows.values()} == {answer["article_id"]}
    assert store.article(answer["article_id"])["source"] == "webhook"  # type: ignore[index]


def test_replay_gets_the_first_answer_and_plans_nothing(base: str, store: Store) -> None:
    first = post(base, article_body(), signed(article_body(), msg_id="msg_r"))
    other = article_body(url="https://news.example/another-story", title="Another story")
    again = post(base, article_body(), signed(article_body(), msg_id="msg_r"))
    changed = post(base, other, signed(other, msg_id="msg_r"))  # same id, other content
    assert first.status_code == again.status_code == changed.status_code == 202
    assert first.json() == again.json() == changed.json()
    assert len(planned(store)) == 2


def test_same_article_with_a_new_id_is_already_known(base: str, store: Store) -> None:
    body = article_body()
    first = post(base, body, signed(body, msg_id="msg_a")).json()
    second = post(base, body, signed(body, msg_id="msg_b")).json()
    assert second["created"] == [] and sorted(second["deliveries"]) == sorted(first["deliveries"])
    assert len(planned(store)) == 2


def test_racing_copies_of_one_request_plan_once(base: str, store: Store) -> None:
    body = article_body()
    headers = signed(body, msg_id="msg_race")
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda: answers.append(post(base, body, headers))) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [202] * 6
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert len(planned(store)) == 2


def _refused(base: str, store: Store, body: bytes, headers: dict[str, str]) -> str:
    resp = post(base, body, headers)
    assert resp.status_code == 401, resp.text
    assert planned(store) == [] and store.webhook_response(headers.get("webhook-id", "x")) is None
    detail: str = resp.json()["detail"]
    return detail


def test_stale_and_future_timestamps_are_refused(base: str, store: Store) -> None:
    body = article_body()
    stale = _refused(base, store, body, signed(body, at=T0 - timedelta(seconds=301)))
    future = _refused(base, store, body, signed(body, at=T0 + timedelta(seconds=301)))
    assert "webhook-timestamp" in stale and "webhook-timestamp" in future
    ok = post(base, body, signed(body, at=T0 - timedelta(seconds=299)))
    assert ok.status_code == 202


def test_a_changed_byte_or_reserialised_json_is_refused(base: str, store: Store) -> None:
    body = article_body()
    headers = signed(body)
    tampered = body.replace(b"Council", b"Cauncil", 1)
    assert "no valid signature" in _refused(base, store, tampered, headers)
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    _refused(base, store, reserialised, headers)


def test_wrong_secret_and_garbage_signatures_are_refused(base: str, store: Store) -> None:
    body = article_body()
    _refused(base, store, body, signed(body, b"w" * 32))
    for bad in ("v1,", "v1,not-base64!", "v2," + signed(body)["webhook-signature"][3:], "x" * 500):
        _refused(base, store, body, {**signed(body), "webhook-signature": bad})
    _refused(base, store, body, {**signed(body), "webhook-timestamp": "soon"})
    _refused(base, store, body, {**signed(body), "webhook-id": "has space"})


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_refused(base: str, store: Store, missing: str) -> None:
    body = article_body()
    headers = {k: v for k, v in signed(body).items() if k != missing}
    assert "missing" in _refused(base, store, body, headers)


def test_rotation_accepts_old_and_new_secret(base: str, store: Store) -> None:
    first, second = article_body(), article_body(url="https://news.example/b", title="B")
    assert post(base, first, signed(first, OLD_KEY)).status_code == 202
    both = signed(second, [b"unknown" * 5, KEY])  # sender signs with two secrets
    assert post(base, second, both).status_code == 202
    assert len(planned(store)) == 4


def test_oversized_body_is_refused_before_it_is_read(base: str, store: Store) -> None:
    body = article_body(body="x" * 20_000)
    resp = post(base, body, signed(body))
    assert resp.status_code == 413 and planned(store) == []
    chunks = iter([body[:8000], body[8000:16000], body[16000:]])  # chunked: no Content-Length
    resp = requests.post(f"{base}/hooks/articles", data=chunks, headers=signed(body), timeout=10)
    assert resp.status_code == 413 and planned(store) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"url": "https://news.example/x"', "not valid JSON"),
        (b'{"url": "https://news.example/x", "body": "no title"}', "title"),
        (b'{"url": "ftp://news.example/x", "title": "T"}', "url"),
        (b"[1, 2]", "one article object"),
        (b"\xff\xfe\x00garbage", "request body"),
        # issue 13 findings 5 and 9: 422s, not 503 "try again" or 500
        (b'{"url": "https://news.example/x", "title": "T\\u0000"}', "NUL character"),
        (
            b'{"url": "https://n.example/x", "title": "T", "t": ' + b"[" * 995 + b"]" * 995 + b"}",
            "deep",
        ),
        (b'{"url": "https://news.example/x", "title": "T", "n": ' + b"1" * 4400 + b"}", "digits"),
        (b'{"url": "https://news.example/x", "title": "T\\ud800"}', "lone surrogate"),
    ],
)
def test_invalid_article_is_422_with_one_line(
    base: str, store: Store, body: bytes, expected: str
) -> None:
    resp = post(base, body, signed(body, msg_id="msg_bad"))
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert expected in detail and "\n" not in detail and planned(store) == []
    fixed = article_body()  # the id was not used up: the corrected request goes through
    assert post(base, fixed, signed(fixed, msg_id="msg_bad")).status_code == 202


def test_without_secrets_the_webhook_is_unavailable(tmp_path: Path) -> None:
    unset = {"DISTRIBUTOR_WEBHOOK_SECRET": "", "DISTRIBUTOR_WEBHOOK_SECRET_OLD": ""}
    settings = hook_settings_for(tmp_path, **unset)
    app = create_app(settings, clock=FakeClock(T0))
    with serve(app) as url:
        body = article_body()
        resp = post(url, body, signed(body))
    app.state.web.store.close()
    assert resp.status_code == 503 and "DISTRIBUTOR_WEBHOOK_SECRET" in resp.json()["detail"]


def test_url_is_fetched_only_from_allowed_hosts(tmp_path: Path) -> None:
    with page_server(PAGE) as site:
        body = json.dumps({"url": f"{site}/story"}).encode()
        for extra, status in (
            ("", 422),  # no [watch] allow_hosts: nothing may be fetched
            ('[watch]\nallow_hosts = ["127.0.0.1"]\n', 422),  # loopback is private
            (ALLOW_LOOPBACK, 202),
        ):
            folder = tmp_path / str(status) / str(len(extra))
            folder.mkdir(parents=True)
            app = create_app(hook_settings_for(folder, extra), clock=FakeClock(T0))
            with serve(app) as url:
                resp = post(url, body, signed(body))
            store = app.state.web.store
            assert resp.status_code == status, resp.text
            if status == 422:
                assert "allow" in resp.json()["detail"] and planned(store) == []
            else:
                assert store.article(resp.json()["article_id"])["title"] == "Fetched story"
                assert len(planned(store)) == 2
            store.close()


def test_no_secret_or_signature_in_logs(
    base: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = article_body()
    good, bad = signed(body, msg_id="msg_log"), signed(body, b"w" * 32)
    post(base, body, good)
    post(base, body, bad)
    text = caplog.text
    assert "msg_log" in text and "refused" in text
    for value in (SECRET, good["webhook-signature"], bad["webhook-signature"]):
        assert value not in text


def test_store_records_the_id_with_the_plan_and_refuses_it_twice(store: Store) -> None:
    from distributor.sources.files import articles_from_data
    from distributor.store.webhooks import WebhookCall, WebhookReplay

    article = articles_from_data(json.loads(article_body()), "test")[0]
    call = WebhookCall("msg_s", lambda result: {"article_id": result.article_id})
    result = store.plan(article, [], source="webhook", webhook=call)
    assert store.webhook_response("msg_s") == {"article_id": result.article_id}
    with pytest.raises(WebhookReplay) as replay:
        store.plan(article, [], source="webhook", webhook=call)
    assert replay.value.response == {"article_id": result.article_id}


def test_a_broken_store_is_503_and_the_id_stays_unused(base: str, store: Store) -> None:
    with store._engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE deliveries RENAME TO deliveries_away")
    body = article_body()
    resp = post(base, body, signed(body, msg_id="msg_down"))
    assert resp.status_code == 503 and "try again" in resp.json()["detail"]
    assert store.webhook_response("msg_down") is None
    with store._engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE deliveries_away RENAME TO deliveries")
    assert post(base, body, signed(body, msg_id="msg_down")).status_code == 202


def test_non_ascii_header_bytes_are_refused_not_crashed(base: str, store: Store) -> None:
    body = article_body()
    headers = signed(body)
    wide = "".join(chr(ord(c) - ord("0") + 0x0660) for c in headers["webhook-timestamp"])
    for name, value in (
        ("webhook-timestamp", wide),
        ("webhook-id", "msg_ü"),
        ("webhook-signature", "v1,ä"),
    ):
        resp = requests.post(
            f"{base}/hooks/articles",
            data=body,
            headers={**headers, name: value.encode()},
            timeout=10,
        )
        assert resp.status_code == 401, (name, resp.text)
    assert planned(store) == []


@pytest.mark.parametrize("library", ["svix", "standardwebhooks"])
@pytest.mark.parametrize("prefix", ["svix", "webhook"])
def test_reference_signers_are_accepted_under_both_header_spellings(
    base: str, store: Store, library: str, prefix: str
) -> None:
    """The reference libraries sign; the CMS world sends the result as `svix-*` or `webhook-*`
    headers. Both spellings plan the article; a changed body under either is refused."""
    if library == "svix":
        from svix.webhooks import Webhook
    else:
        from standardwebhooks.webhooks import Webhook  # type: ignore[no-redef]
    body = article_body()
    msg_id = f"msg_{library}_{prefix}"
    signature = Webhook(SECRET).sign(msg_id, T0, body.decode())
    headers = {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(int(T0.timestamp())),
        f"{prefix}-signature": signature,
    }
    tampered = post(base, body.replace(b"}", b" }", 1), headers)
    assert tampered.status_code == 401, tampered.text
    resp = post(base, body, headers)
    assert resp.status_code == 202, resp.text
    assert resp.json()["webhook_id"] == msg_id and planned(store)


def test_webhook_answers_carry_the_security_headers_and_a_bug_is_a_bare_500(
    base: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook is served before FastAPI's router (hooks.FastPath): its answers still pass
    the headers middleware, a bug still reaches the app's 500 handler, other methods the router."""
    from distributor.web import hooks
    from distributor.web.headers import HEADERS

    body = article_body()
    for resp in (post(base, body, signed(body, msg_id="msg_h")), post(base, body, {})):
        assert resp.status_code in (202, 401)
        assert {k: resp.headers.get(k) for k in HEADERS} == HEADERS

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("verifier exploded")

    monkeypatch.setattr(hooks, "verify", broken)
    resp = post(base, body, signed(body, msg_id="msg_bug"))
    assert resp.status_code == 500 and "exploded" not in resp.text
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert requests.get(f"{base}/hooks/articles", timeout=10).status_code == 405
