"""The Bluesky emulator keeps one repository per account, as a PDS does: rkeys are per repo."""

from __future__ import annotations

from typing import Any

import requests

RKEY = "3lbqzsandbox2"
POST = "app.bsky.feed.post"


def _session(base: str, handle: str) -> dict[str, Any]:
    answer = requests.post(
        f"{base}/xrpc/com.atproto.server.createSession",
        json={"identifier": handle, "password": "app-pass-word-1234"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _create(base: str, session: dict[str, Any], text: str) -> requests.Response:
    record = {"$type": POST, "text": text, "createdAt": "2026-11-25T10:00:00.000Z"}
    return requests.post(
        f"{base}/xrpc/com.atproto.repo.createRecord",
        json={"repo": session["did"], "collection": POST, "rkey": RKEY, "record": record},
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
        timeout=5,
    )


def test_same_record_key_in_two_accounts_is_two_posts(sandbox: Any) -> None:
    base = sandbox.base_url("bluesky")
    one, two = _session(base, "news.example"), _session(base, "sport.example")
    assert one["did"] != two["did"]
    assert _create(base, one, "Nachrichten").status_code == 200
    assert _create(base, two, "Sport").status_code == 200
    assert _create(base, one, "again").status_code == 500  # the key exists in this repo
    for session, text in ((one, "Nachrichten"), (two, "Sport")):
        got = requests.get(
            f"{base}/xrpc/com.atproto.repo.getRecord",
            params={"repo": session["did"], "collection": POST, "rkey": RKEY},
            timeout=5,
        )
        assert got.status_code == 200 and got.json()["value"]["text"] == text
        assert got.json()["uri"] == f"at://{session['did']}/{POST}/{RKEY}"
    assert sorted(p.account for p in sandbox.posts("bluesky")) == sorted([one["did"], two["did"]])
