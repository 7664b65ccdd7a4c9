"""The Bluesky adapter and the CLI against the reference PDS (npm `@atproto/pds`), not our emulator.

Posts are read back from the PDS itself: text, facets' UTF-8 byte offsets, the link card and its
thumb blob (fetched back byte for byte), `langs`. Publishing twice makes one record; a create
whose answer is lost (a loopback proxy drops it) is found by reconcile, still one record;
retract deletes it; `check` fails for a deactivated account; the PDS's own 429 is RateLimited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from e2e.image_server import JPEG, image_server
from pds import Account, Pds, new_account, records
from proxy import LosingProxy

from distributor.article import Image
from distributor.cli import cli
from distributor.config import Settings, load_config
from distributor.errors import MaybeSent, RateLimited
from distributor.platforms.base import Draft
from distributor.platforms.registry import build_adapter

pytestmark = pytest.mark.interop
LINK = "https://news.example/koeln/wahlabend?utm_source=bluesky&utm_medium=social"
TEXT = f"Grüße aus Köln 🎉🇩🇪 – Wahlabend im Rathaus #Bundestagswahl #Köln {LINK}"


@pytest.fixture
def images() -> Iterator[str]:
    with image_server() as base:
        yield base


def settings(tmp_path: Path, url: str, account: Account) -> Settings:
    path = tmp_path / "distributor.toml"
    path.write_text(
        f'[distributor]\ndatabase = "sqlite:///{tmp_path / "log.db"}"\n\n'
        f'[channels.bsky]\nplatform = "bluesky"\nhandle = "{account.handle}"\n'
        f'app_password_env = "BSKY_APP_PASSWORD"\nbase_url = "{url}"\n',
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(f"BSKY_APP_PASSWORD={account.app_password}\n", "utf-8")
    return load_config(path, environ={"BSKY_APP_PASSWORD": account.app_password})


def adapter(conf: Settings, images: str | None = None) -> Any:
    """The channel's adapter; with `images`, article images may come from that loopback server
    (production rules refuse loopback images: the mark is what sandbox sessions carry)."""
    import requests

    session = requests.Session()
    if images:
        session.distributor_sandbox = images  # type: ignore[attr-defined]
    return build_adapter(conf.channel("bsky"), conf, session=session, timeout=30)


def draft(images: str) -> Draft:
    image = Image(f"{images}/img/wahl.jpg", "Der Kölner Rathausturm am Wahlabend", "dpa")
    return Draft(
        "bsky",
        "bluesky",
        "wahl-koeln",
        TEXT,
        LINK,
        "Wahlabend in Köln: Grüße 🎉",
        "Überraschungen im Rathaus",
        image,
        "de",
    )


def _span(raw: bytes, piece: str) -> dict[str, int]:
    start = raw.index(piece.encode("utf-8"))
    return {"byteStart": start, "byteEnd": start + len(piece.encode("utf-8"))}


def test_publish_reads_back_text_facets_card_thumb_langs(
    pds: Pds, account: Account, images: str, tmp_path: Path
) -> None:
    bluesky = adapter(settings(tmp_path, pds.url, account), images)
    receipt = bluesky.publish(draft(images), key="k1")
    [item] = records(pds, account)
    assert item["uri"].rsplit("/", 1)[-1] == receipt.remote_id
    value = item["value"]
    assert value["text"] == TEXT and value["langs"] == ["de"]
    raw = TEXT.encode("utf-8")
    found = {json.dumps(f["index"], sort_keys=True): f["features"][0] for f in value["facets"]}
    expected = {
        json.dumps(_span(raw, "#Bundestagswahl"), sort_keys=True): ("tag", "Bundestagswahl"),
        json.dumps(_span(raw, "#Köln"), sort_keys=True): ("tag", "Köln"),
        json.dumps(_span(raw, LINK), sort_keys=True): ("uri", LINK),
    }
    assert {
        k: (next(iter(set(f) - {"$type"})), f.get("tag") or f.get("uri")) for k, f in found.items()
    } == expected
    external = value["embed"]["external"]
    assert (external["uri"], external["title"]) == (LINK, "Wahlabend in Köln: Grüße 🎉")
    thumb = external["thumb"]
    assert (thumb["mimeType"], thumb["size"]) == ("image/jpeg", len(JPEG))
    params = {"did": account.did, "cid": thumb["ref"]["$link"]}
    blob = pds.xrpc("GET", "com.atproto.sync.getBlob", params=params)
    assert blob.status_code == 200 and blob.content == JPEG


def test_the_same_delivery_twice_is_one_record(
    pds: Pds, account: Account, images: str, tmp_path: Path
) -> None:
    conf, when = settings(tmp_path, pds.url, account), datetime.now(UTC)
    first = adapter(conf, images).publish(draft(images), key="k2", when=when)
    with pytest.raises(MaybeSent):  # a fresh process sends the same rkey: the PDS answers 500
        adapter(conf, images).publish(draft(images), key="k2", when=when)
    found = adapter(conf, images).lookup(draft(images), key="k2", since=when)
    assert found is not None and found.remote_id == first.remote_id
    assert len(records(pds, account)) == 1


def article(tmp_path: Path, images: str) -> Path:
    path = tmp_path / "article.json"
    data = {
        "url": "https://news.example/koeln/wahlabend",
        "title": "Wahlabend in Köln: Grüße aus dem Rathaus 🎉",
        "language": "de",
        "teaser": "Überraschungen bei der Wahl – die Stadt feiert.",
        "body": "Köln hat gewählt.",
        "image": {"url": f"{images}/img/wahl.jpg", "alt": "Der Rathausturm", "credit": "dpa"},
        "tags": ["Bundestagswahl", "Köln"],
        "published_at": "2026-02-23T18:00:00+01:00",
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def cli_run(conf: Settings, *args: str) -> Any:
    assert conf.path is not None
    return CliRunner().invoke(cli, ["--config", str(conf.path), *args])


def test_cli_publish_twice_then_retract(
    pds: Pds, account: Account, images: str, tmp_path: Path
) -> None:
    conf, art = settings(tmp_path, pds.url, account), article(tmp_path, images)
    first = cli_run(conf, "publish", str(art), "--wait")
    assert first.exit_code == 0, first.output
    again = cli_run(conf, "publish", str(art), "--wait")
    assert again.exit_code == 0, again.output
    [item] = records(pds, account)
    assert "Köln" in item["value"]["text"]
    gone = cli_run(conf, "retract", "https://news.example/koeln/wahlabend", "--yes")
    assert gone.exit_code == 0, gone.output
    assert records(pds, account) == []


def test_lost_answer_then_reconcile_is_exactly_one_record(
    pds: Pds, account: Account, images: str, tmp_path: Path
) -> None:
    from distributor.reconcile import reconcile
    from distributor.store import open_store

    with LosingProxy(pds.url, drop="com.atproto.repo.createRecord") as proxy:
        conf, art = settings(tmp_path, proxy.url, account), article(tmp_path, images)
        sent = cli_run(conf, "publish", str(art), "--wait")
        assert sent.exit_code == 5, sent.output  # the outcome is unknown
        assert proxy.dropped == 1 and len(records(pds, account)) == 1
        store = open_store(conf.database_url)
        try:
            report = reconcile(conf, store, settle=0)
        finally:
            store.close()
        assert [d.action for d in report.decisions] == ["found"]
    logged = cli_run(conf, "log", "--json")
    [row] = json.loads(logged.stdout)
    assert row["state"] == "sent"
    assert len(records(pds, account)) == 1


def test_check_fails_for_a_deactivated_account(pds: Pds, tmp_path: Path) -> None:
    account = new_account(pds)
    conf = settings(tmp_path, pds.url, account)
    assert cli_run(conf, "check").exit_code == 0
    off = pds.xrpc("POST", "com.atproto.server.deactivateAccount", account.access, json={})
    assert off.status_code == 200, off.text
    result = cli_run(conf, "check", "--json")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert row["ok"] is False and "deactivated" in row["error"]


def test_the_pds_429_is_rate_limited_with_its_retry_time(pds_limited: Pds, tmp_path: Path) -> None:
    account = new_account(pds_limited)
    body = {"identifier": account.handle, "password": account.app_password}
    for _ in range(30):  # the PDS allows 30 logins per 5 minutes per identifier
        pds_limited.xrpc("POST", "com.atproto.server.createSession", json=body)
    with pytest.raises(RateLimited) as info:
        adapter(settings(tmp_path, pds_limited.url, account)).verify()
    assert info.value.code == "RateLimitExceeded"
    assert 0 < info.value.retry_after <= 300
    assert info.value.reset_at is not None
    assert pds_limited.violations() == ""
