"""Store contract: platform login sessions kept for every process (save, replace, drop)."""

from __future__ import annotations

from distributor.store.store import Store


def test_sessions_are_saved_replaced_and_dropped_per_key(store: Store) -> None:
    key = "bluesky:news.example.com@https://bsky.social"
    assert store.load_session(key) is None
    first = {
        "did": "did:plc:abc",
        "handle": "news.example.com",
        "accessJwt": "a1",
        "refreshJwt": "r1",
    }
    store.save_session(key, first)
    store.save_session("bluesky:other@https://bsky.social", {**first, "accessJwt": "x"})
    assert store.load_session(key) == first
    store.save_session(key, {**first, "accessJwt": "a2", "refreshJwt": "r2"})
    assert store.load_session(key) == {**first, "accessJwt": "a2", "refreshJwt": "r2"}
    store.drop_session(key)
    assert store.load_session(key) is None
    assert store.load_session("bluesky:other@https://bsky.social") is not None
