"""XRPC exchanges replayed against the real PDS (recorded) and the sandbox's emulator (compared).

Each exchange is one request the Bluesky adapter makes, or one it could get wrong: a good post,
facets past the end of the text, bad or too many `langs`, an unknown blob, another account's
repository, a blob over 1,000,000 bytes, an existing rkey, a missing record, no token, a bad
password, a blob whose Content-Type lies. `summary()` keeps what clients read: the status, the
error body's keys and `error` code, chosen fields and header names. `RECORDED` is what
`tests/interop/test_record.py` wrote from a run against the real PDS (`make interop`
re-checks it; `RECORD_PDS_ANSWERS=1 make interop` rewrites it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

# DIDs and CIDs differ per run: messages are compared with them blanked out
_VOLATILE = re.compile(r"did:plc:[a-z2-7]+|\bbaf[a-z2-7]{20,}")
RECORDED = Path(__file__).with_name("pds_answers.json")
POST = "app.bsky.feed.post"
# 8x8 PNG, one colour: real image bytes, so the PDS's MIME sniffing has something to find
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000008000000080802000000"
    "4b6d29dc0000001249444154789c63f8cfc0f09f8106c6210000f0a13f"
    "c1cc2b17f50000000049454e44ae426082"
)
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 1 grapheme, 25 bytes
HEADERS_READ = ("content-type", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
HEADERS_READ += ("ratelimit-policy", "retry-after")


@dataclass
class Target:
    """Where the exchanges go (`base` ends before /xrpc) and as whom."""

    base: str
    handle: str
    password: str
    other_did: str  # another account's repository
    full_password: str = ""  # the account password (deactivateAccount refuses app passwords)
    session: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, nsid: str, *, auth: bool = True, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if auth:
            headers.setdefault("Authorization", f"Bearer {self.login()['accessJwt']}")
        url = f"{self.base}/xrpc/{nsid}"
        return requests.request(method, url, headers=headers, timeout=30, **kw)

    def login(self) -> dict[str, Any]:
        if not self.session:
            body = {"identifier": self.handle, "password": self.password}
            got = self.call("POST", "com.atproto.server.createSession", auth=False, json=body)
            assert got.status_code == 200, got.text
            self.session = got.json()
        return self.session

    def create(self, record: dict[str, Any], **extra: Any) -> requests.Response:
        body = {"repo": self.login()["did"], "collection": POST, "record": record, **extra}
        return self.call("POST", "com.atproto.repo.createRecord", json=body)


def post(text: str = "Grüße aus Köln 🎉", **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"$type": POST, "text": text, "createdAt": now, **fields}


def card(blob: dict[str, Any]) -> dict[str, Any]:
    external = {"uri": "https://news.example/a", "title": "T", "description": "D", "thumb": blob}
    return {"$type": "app.bsky.embed.external", "external": external}


def _blob(t: Target) -> dict[str, Any]:
    headers = {"Content-Type": "image/png"}
    got = t.call("POST", "com.atproto.repo.uploadBlob", data=PNG, headers=headers)
    assert got.status_code == 200, got.text
    blob: dict[str, Any] = got.json()["blob"]
    return blob


def _facet(start: int, end: int) -> dict[str, Any]:
    feature = {"$type": "app.bsky.richtext.facet#link", "uri": "https://news.example/a"}
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def _existing_rkey(t: Target) -> requests.Response:
    rkey = "3" + "k" * 12
    t.create(post(), rkey=rkey)
    return t.create(post(), rkey=rkey)


def _unknown_blob(t: Target) -> requests.Response:
    blob = {
        **_blob(t),
        "ref": {"$link": "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
    }
    return t.create(post(embed=card(blob)))


def _big_blob(t: Target) -> requests.Response:
    return t.create(post(embed=card({**_blob(t), "size": 1_000_001})))


def _other_repo(t: Target) -> requests.Response:
    body = {"repo": t.other_did, "collection": POST, "record": post()}
    return t.call("POST", "com.atproto.repo.createRecord", json=body)


def _missing_record(t: Target) -> requests.Response:
    params = {"repo": t.login()["did"], "collection": POST, "rkey": "3" + "z" * 12}
    return t.call("GET", "com.atproto.repo.getRecord", params=params)


def _delete(t: Target) -> requests.Response:
    made = t.create(post())
    rkey = made.json()["uri"].rsplit("/", 1)[-1]
    body = {"repo": t.login()["did"], "collection": POST, "rkey": rkey}
    return t.call("POST", "com.atproto.repo.deleteRecord", json=body)


def _sniffed(t: Target) -> requests.Response:
    headers = {"Content-Type": "application/octet-stream"}
    return t.call("POST", "com.atproto.repo.uploadBlob", data=PNG, headers=headers)


def _bad_login(t: Target) -> requests.Response:
    body = {"identifier": t.handle, "password": "invalid-password-1234"}
    return t.call("POST", "com.atproto.server.createSession", auth=False, json=body)


def _deactivate(t: Target) -> requests.Response:
    """Deactivate the account with a full session (the exchanges after this one see it)."""
    body = {"identifier": t.handle, "password": t.full_password or t.password}
    full = t.call("POST", "com.atproto.server.createSession", auth=False, json=body).json()
    auth = {"Authorization": f"Bearer {full['accessJwt']}"}
    return t.call("POST", "com.atproto.server.deactivateAccount", auth=False, json={}, headers=auth)


def _app_scope_deactivate(t: Target) -> requests.Response:
    return t.call("POST", "com.atproto.server.deactivateAccount", json={})


def _login_once(t: Target) -> requests.Response:
    body = {"identifier": t.handle, "password": t.password}
    return t.call("POST", "com.atproto.server.createSession", auth=False, json=body)


def _hammer(t: Target) -> requests.Response:
    """createSession until the PDS says 429 (its limit: 30 per 5 minutes per identifier)."""
    body = {"identifier": t.handle, "password": t.password}
    for _ in range(40):
        got = t.call("POST", "com.atproto.server.createSession", auth=False, json=body)
        if got.status_code != 200:
            return got
    return got


def _no_token(t: Target) -> requests.Response:
    return requests.post(f"{t.base}/xrpc/com.atproto.repo.createRecord", json={}, timeout=30)


def _session(t: Target) -> requests.Response:
    return t.call("GET", "com.atproto.server.getSession")


Exchange = Callable[[Target], requests.Response]
# name -> (the request, the body fields compared besides status/error/keys)
EXCHANGES: dict[str, tuple[Exchange, tuple[str, ...]]] = {
    "session": (_session, ("active", "status")),
    "bad_login": (_bad_login, ()),
    "no_token": (_no_token, ()),
    "post": (lambda t: t.create(post()), ("validationStatus",)),
    "post_with_thumb": (lambda t: t.create(post(embed=card(_blob(t)))), ()),
    "facets_out_of_range": (lambda t: t.create(post("kurz", facets=[_facet(2, 400)])), ()),
    "langs_bad": (lambda t: t.create(post(langs=["not a language!"])), ()),
    "langs_four": (lambda t: t.create(post(langs=["de", "en", "fr", "it"])), ()),
    "text_301_graphemes": (lambda t: t.create(post("ä" * 301)), ()),
    "text_3001_bytes": (lambda t: t.create(post(FAMILY * 121)), ()),
    "unknown_blob": (_unknown_blob, ()),
    "blob_too_big": (_big_blob, ()),
    "other_repo": (_other_repo, ()),
    "existing_rkey": (_existing_rkey, ()),
    "missing_record": (_missing_record, ()),
    "delete": (_delete, ()),
    "blob_mime_sniffed": (_sniffed, ("blob.mimeType", "blob.size")),
    "deactivate_with_app_password": (_app_scope_deactivate, ()),
    # the last ones: the account is deactivated from here on
    "deactivate": (_deactivate, ()),
    "session_deactivated": (_session, ("active", "status")),
    "post_deactivated": (lambda t: t.create(post()), ()),
}
# Against a PDS with PDS_RATE_LIMITS_ENABLED=true (the emulator: a 30 / 5 min limit on `session`)
LIMITED: dict[str, tuple[Exchange, tuple[str, ...]]] = {
    "login_limited": (_login_once, ()),
    "login_429": (_hammer, ()),
}


def _field(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def summary(response: requests.Response, fields: tuple[str, ...]) -> dict[str, Any]:
    """What clients read of an answer (stable across runs: no ids, times or tokens)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    out: dict[str, Any] = {
        "status": response.status_code,
        "error": error,
        "headers": sorted(h for h in HEADERS_READ if h in response.headers),
        "content_type": response.headers.get("content-type", "").split(";")[0],
    }
    out["keys"] = sorted(body) if isinstance(body, dict) else None
    if response.status_code >= 400 and isinstance(body, dict):
        out["message"] = _VOLATILE.sub("*", str(body.get("message")))
    out.update({f"body.{name}": _field(body, name) for name in fields})
    return out


def run_all(
    target: Target, exchanges: dict[str, tuple[Exchange, tuple[str, ...]]] = EXCHANGES
) -> dict[str, dict[str, Any]]:
    """Every exchange against `target`, summarised, in a fixed order."""
    return {name: summary(call(target), fields) for name, (call, fields) in exchanges.items()}


def recorded() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(RECORDED.read_text(encoding="utf-8"))["answers"]
    return data
