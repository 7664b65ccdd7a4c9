"""The Mastodon and X emulators answer recorded real requests as the real services did.

Every request of the Mastodon.py and tweepy cassettes (recorded against Mastodon 4.x and the X
API) whose route the emulator implements is replayed in order; status code, error-body keys,
the rate-limit headers clients read, the media type and Mastodon's `content` HTML must match
the recording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cassettes import Exchange, Replay, comparable, load, load_decoded, recorded
from locations import reference

from distributor.sandbox import Sandbox

X_TOKEN = "1072250532645998596-fidelityTOKEN"  # the user id the tweepy cassettes act as


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(port=0, platforms=["mastodon", "x"]) as sandbox:
        yield sandbox


def implemented(box: Sandbox, platform: str, exchange: Exchange) -> bool:
    """The emulator has the route (and the feature: scheduled statuses are not emulated,
    distributor schedules itself)."""
    if b"scheduled_at" in (exchange.body or b""):
        return False
    path = exchange.path.split("?")[0]
    routes = box.emulators[platform].routes()
    return any(r.method == exchange.method and re.fullmatch(r.pattern, path) for r in routes)


def _cassettes(*parts: str, decoded: bool = False) -> list[Path]:
    """The raw cassettes, and (`decoded`) the decoded ones that have no raw file."""
    folder = reference(*parts)
    raw = sorted(p for p in (folder / "raw").iterdir() if p.suffix in (".yaml", ".json"))
    if not decoded:  # tweepy's decoded-only ones are chunked uploads of binary bodies
        return raw
    stems = {p.stem for p in raw}
    decoded = folder / "decoded"
    extra = [p for p in sorted(decoded.glob("*.decoded.json")) if p.name[:-13] not in stems]
    return raw + extra


def _replay(box: Sandbox, platform: str, path: Path, replay: Replay) -> tuple[list[str], int]:
    box.reset()
    differences, replayed = [], 0
    exchanges = load_decoded(path) if path.name.endswith(".decoded.json") else load(path)
    for i, exchange in enumerate(exchanges):
        if not implemented(box, platform, exchange):
            continue
        got, want = comparable(exchange, replay.send(exchange)), recorded(exchange)
        replayed += 1
        if got != want:
            differences.append(f"#{i} {exchange.method} {exchange.path[:60]}: {got} != {want}")
    return differences, replayed


def test_mastodon_cassettes(box: Sandbox) -> None:
    total, problems = 0, []
    for path in _cassettes("mastodon", "mastodonpy-cassettes", decoded=True):
        replay = Replay(f"{box.url}/mastodon", token="fidelity-token")
        differences, replayed = _replay(box, "mastodon", path, replay)
        problems += [f"{path.name} {d}" for d in differences]
        total += replayed
    assert problems == []
    assert total >= 15  # statuses, media, deletes, errors, instance


def test_x_cassettes(box: Sandbox) -> None:
    from requests_oauthlib import OAuth1

    auth: Any = OAuth1("ck", "cs", X_TOKEN, "ts")
    total, problems = 0, []
    for path in _cassettes("tweepy"):
        differences, replayed = _replay(box, "x", path, Replay(f"{box.url}/x", auth=auth))
        problems += [f"{path.name} {d}" for d in differences]
        total += replayed
    assert problems == []
    assert total >= 7  # create/delete tweet (two clients), community, users/me, media upload
