"""The sandbox's X emulator spoken to directly: media upload protocols, auth, replies, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from image_server import JPEG
from plain_http import adapter

CHANNEL = "x_main"


@pytest.fixture
def oauth(sandbox_settings: Any) -> Any:
    from requests_oauthlib import OAuth1

    creds = sandbox_settings.credentials(sandbox_settings.channel(CHANNEL))
    return OAuth1(
        *(
            creds[r].reveal()
            for r in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        )
    )


def test_emulator_chunked_upload_protocol(sandbox: Any, oauth: Any) -> None:
    import requests

    url = sandbox.base_url("x") + "/1.1/media/upload.json"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2500
    init = requests.post(
        url,
        data={"command": "INIT", "total_bytes": len(png), "media_type": "image/png"},
        auth=oauth,
        timeout=5,
    )
    assert init.status_code == 202
    media_id = init.json()["media_id_string"]
    for index, start in enumerate(range(0, len(png), 1000)):
        part = {"media": ("blob", png[start : start + 1000])}
        form = {"command": "APPEND", "media_id": media_id, "segment_index": str(index)}
        append = requests.post(url, data=form, files=part, auth=oauth, timeout=5)
        assert append.status_code == 204 and append.content == b""
    done = requests.post(
        url, data={"command": "FINALIZE", "media_id": media_id}, auth=oauth, timeout=5
    )
    assert done.status_code == 201
    assert done.json()["size"] == len(png) and done.json()["image"]["image_type"] == "image/png"
    status = requests.get(
        url, params={"command": "STATUS", "media_id": media_id}, auth=oauth, timeout=5
    )
    assert status.json()["processing_info"]["state"] == "succeeded"
    late = requests.post(
        url,
        data={"command": "APPEND", "media_id": media_id, "segment_index": "9"},
        files={"media": ("b", b"x")},
        auth=oauth,
        timeout=5,
    )
    assert late.status_code == 400 and late.json()["request"] == "/1.1/media/upload.json"
    # a short upload is refused at FINALIZE with the upload host's own message
    short = requests.post(
        url,
        data={"command": "INIT", "total_bytes": "5000", "media_type": "image/png"},
        auth=oauth,
        timeout=5,
    ).json()["media_id_string"]
    requests.post(
        url,
        data={"command": "APPEND", "media_id": short, "segment_index": "0"},
        files={"media": ("b", png[:100])},
        auth=oauth,
        timeout=5,
    )
    bad = requests.post(url, data={"command": "FINALIZE", "media_id": short}, auth=oauth, timeout=5)
    assert bad.status_code == 400
    assert bad.json()["error"] == "Segments do not add up to provided total file size."
    tweets = sandbox.base_url("x") + "/2/tweets"
    body = {"text": "Bild", "media": {"media_ids": [short]}}
    refused = requests.post(tweets, json=body, auth=oauth, timeout=5)
    assert refused.status_code == 400 and "media IDs are invalid" in refused.text
    ok = requests.post(
        tweets, json={**body, "media": {"media_ids": [media_id]}}, auth=oauth, timeout=5
    )
    assert ok.status_code == 201 and ok.json()["data"]["text"].startswith("Bild https://t.co/")
    parent = ok.json()["data"]["id"]
    orphan = {"text": "Antwort", "reply": {"in_reply_to_tweet_id": "1"}}
    assert requests.post(tweets, json=orphan, auth=oauth, timeout=5).status_code == 403
    answer = {"text": "Antwort", "reply": {"in_reply_to_tweet_id": parent}}
    assert requests.post(tweets, json=answer, auth=oauth, timeout=5).status_code == 201
    assert [p.data["reply_to"] for p in sandbox.posts("x")] == [None, parent]


def test_emulator_speaks_tweepy_simple_upload(sandbox: Any, sandbox_settings: Any) -> None:
    from io import BytesIO

    xa = adapter(sandbox_settings, CHANNEL)
    media = xa.api.media_upload("bild.png", file=BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64))
    [item] = sandbox.emulators["x"].media.store.values()
    assert item["media_id"] == media.media_id_string and not item["chunked"]
    assert item["media_type"] == "image/png" and item["size"] == 72


def test_emulator_auth_v2_media_and_timeline_paging(sandbox: Any, oauth: Any) -> None:
    import requests

    base = sandbox.base_url("x")
    assert requests.get(base + "/2/users/me", timeout=5).status_code == 401
    bad = {"Authorization": 'OAuth oauth_consumer_key="k", oauth_token="1-a"'}  # unsigned
    assert (
        requests.get(base + "/2/users/me", headers=bad, timeout=5).json()["title"] == "Unauthorized"
    )
    bearer = {"Authorization": "Bearer 777-oauth2-user-token"}
    assert (
        requests.get(base + "/2/users/me", headers=bearer, timeout=5).json()["data"]["id"] == "777"
    )
    upload = requests.post(
        base + "/2/media/upload",
        files={"media": ("a.gif", b"GIF89a" + b"\0" * 50)},
        data={"media_category": "tweet_image"},
        auth=oauth,
        timeout=5,
    )
    media = upload.json()["data"]
    assert upload.status_code == 200 and media["media_key"] == f"3_{media['id']}"
    meta = {"id": media["id"], "metadata": {"alt_text": {"text": "Ein Bild"}}}
    assert requests.post(base + "/2/media/metadata", json=meta, auth=oauth, timeout=5).ok
    init = requests.post(
        base + "/2/media/upload/initialize",
        json={"media_type": "image/jpeg", "total_bytes": len(JPEG)},
        auth=oauth,
        timeout=5,
    ).json()["data"]["id"]
    requests.post(
        f"{base}/2/media/upload/{init}/append",
        data={"segment_index": "0"},
        files={"media": ("a", JPEG)},
        auth=oauth,
        timeout=5,
    )
    assert requests.post(f"{base}/2/media/upload/{init}/finalize", auth=oauth, timeout=5).json()[
        "data"
    ]["size"] == len(JPEG)
    for n in range(7):
        requests.post(
            base + "/2/tweets", json={"text": f"Nummer {n}"}, auth=oauth, timeout=5
        ).raise_for_status()
    timeline = base + "/2/users/1234567890/tweets"
    assert (
        requests.get(timeline, params={"max_results": "3"}, auth=oauth, timeout=5).status_code
        == 400
    )
    first = requests.get(
        timeline, params={"max_results": "5", "tweet.fields": "created_at"}, auth=oauth, timeout=5
    ).json()
    assert [t["text"] for t in first["data"]] == [f"Nummer {n}" for n in range(6, 1, -1)]
    assert first["data"][0]["created_at"].endswith("Z") and first["meta"]["result_count"] == 5
    rest = requests.get(
        timeline,
        params={"max_results": "5", "pagination_token": first["meta"]["next_token"]},
        auth=oauth,
        timeout=5,
    ).json()
    assert [t["text"] for t in rest["data"]] == [
        "Nummer 1",
        "Nummer 0",
    ] and "next_token" not in rest["meta"]
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    empty = requests.get(timeline, params={"start_time": future}, auth=oauth, timeout=5).json()
    assert empty == {"meta": {"result_count": 0}}
