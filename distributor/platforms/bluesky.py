"""Bluesky (AT Protocol) adapter, plain `requests` over XRPC; `facets()` for rich text.

Why not the `atproto` SDK: it is large (pydantic models for every lexicon), logs in on its own
schedule and retries; we need one attempt per call, a session cached per adapter (createSession
is limited to 30 per 5 minutes: never log in per post) and our own typed errors.

A post is `app.bsky.feed.post` with text, createdAt, langs, link/tag facets (UTF-8 byte offsets)
and an `app.bsky.embed.external` link card whose thumb is the article image uploaded as a blob
(<= 1,000,000 bytes), or `app.bsky.embed.images` with alt text when `embed = "images"`.
The record key is a TID minted from the delivery key (`keys.bluesky_tid`), so the same delivery
always names the same record.

Ambiguity policy: LOOKUP. After a 5xx or a lost answer, `lookup()` asks `getRecord` for that rkey;
a retried create is never sent blind (an existing rkey answered 500 on older PDS versions). When
that record is absent it pages through `listRecords` back to the send and matches the draft's
link against link facets' and the card's full URLs (the text may show only a display link).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from distributor import redact
from distributor.errors import AuthFailed, ConfigError, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.bluesky_facets import facets
from distributor.platforms.keys import bluesky_tid
from distributor.platforms.links import any_same
from distributor.platforms.media import fetch_image
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from distributor.platforms.sessions import SessionCache
    from distributor.secrets import Secret

__all__ = ["BlueskyAdapter", "facets"]
log = logging.getLogger(__name__)
POST = "app.bsky.feed.post"
SESSION_KEYS = ("did", "handle", "accessJwt", "refreshJwt")
LINK_FEATURE = "app.bsky.richtext.facet#link"
MAX_BLOB = 1_000_000
DEFAULT_RATE_WAIT = 300.0
LOOKUP_PAGE_SIZE = 100  # listRecords' maximum
LOOKUP_PAGES = 5  # 500 records since the attempt began: more means "cannot prove absence"
AUTH_ERRORS = frozenset(
    {"AuthenticationRequired", "InvalidToken", "AuthMissing", "AccountTakedown"}
    | {"AccountDeactivated"}
)


class BlueskyAdapter(RestAdapter):
    """Posts as one account (`handle`) with an app password."""

    spec: ClassVar[PlatformSpec] = BUILTIN["bluesky"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._password = credentials["app_password"]
        self.handle = options["handle"].lstrip("@")
        self.embed = options.get("embed") or "external"
        if self.embed not in ("external", "images"):
            raise ConfigError(
                f"channel {self.channel.name}: embed must be 'external' or 'images', "
                f"not {self.embed!r}"
            )
        self._session: dict[str, str] | None = None  # did, handle, accessJwt, refreshJwt
        self.sessions: SessionCache | None = None  # the store's, shared by processes
        self._kept = False  # whether the session came from the store (not made here)
        self.rkeys: dict[str, str] = {}  # delivery key -> the record key its first attempt used

    # -- the Adapter protocol -------------------------------------------------------------
    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        """`when` should be the delivery's creation time (then every attempt, in any process,
        names the same record); without it the first attempt's time is kept per adapter."""
        rkey = self.rkeys.setdefault(key, bluesky_tid(key, when or datetime.now(UTC)))
        record = self._record(draft)
        body = {"repo": self._did(), "collection": POST, "rkey": rkey, "record": record}
        response = self._xrpc("POST", "com.atproto.repo.createRecord", json=body)
        return self._receipt(rkey, body_of(response), rate_extra(response.headers))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """getRecord for the delivery's rkey (the one publish used: the TID of `key` at `when`,
        the delivery's creation); when that is absent, our recent records with the same text or
        link card."""
        rkey = self.rkeys.get(key) or bluesky_tid(key, when or since)
        params = {"repo": self._did(), "collection": POST, "rkey": rkey}
        try:
            data = body_of(self._xrpc("GET", "com.atproto.repo.getRecord", params=params))
        except Rejected as exc:
            if exc.code != "RecordNotFound" and exc.status != 404:
                raise
        else:
            return self._receipt(rkey, data)
        return self._scan(draft, since)

    def _scan(self, draft: Draft, since: datetime) -> Receipt | None:
        """Our records newest first (cursor paging) back to `since`; past the page budget the
        post cannot be proven absent (MaybeSent), never "absent"."""
        params = {"repo": self._did(), "collection": POST, "limit": str(LOOKUP_PAGE_SIZE)}
        for _ in range(LOOKUP_PAGES):
            listing = body_of(self._xrpc("GET", "com.atproto.repo.listRecords", params=params))
            records = [r for r in listing.get("records") or [] if isinstance(r, dict)]
            older = False
            for item in records:
                value = item.get("value") if isinstance(item.get("value"), dict) else {}
                created = _time((value or {}).get("createdAt"))
                if created is None or created < since:
                    older = True
                    continue
                if is_ours(draft, value or {}):
                    return self._receipt(str(item.get("uri", "")).rsplit("/", 1)[-1], item)
            cursor = listing.get("cursor")
            if older or not cursor or not records:
                return None
            params = {**params, "cursor": str(cursor)}
        detail = f"lookup: more than {LOOKUP_PAGES * LOOKUP_PAGE_SIZE} records since {since:%H:%M}"
        raise MaybeSent("bluesky", self.channel.name, detail + ": cannot prove the post is absent")

    def delete(self, receipt: Receipt) -> None:
        rkey = receipt.remote_id
        body = {"repo": self._did(), "collection": POST, "rkey": rkey}
        self._xrpc("POST", "com.atproto.repo.deleteRecord", json=body)

    def verify(self) -> AccountInfo:
        """getSession; an account the PDS reports inactive (deactivated, suspended, taken
        down) fails: posts to it would be refused."""
        data = body_of(self._xrpc("GET", "com.atproto.server.getSession"))
        handle = str(data.get("handle") or self.handle)
        if data.get("active") is False:
            status = str(data.get("status") or "not active")
            raise AuthFailed(
                "bluesky",
                self.channel.name,
                f"account @{handle} is {status} (getSession: active false); "
                "reactivate it before posting",
                code=status,
            )
        return AccountInfo(
            "bluesky",
            str(data.get("did") or ""),
            f"@{handle}",
            f"https://bsky.app/profile/{handle}",
        )

    # -- records --------------------------------------------------------------------------
    def _record(self, draft: Draft) -> dict[str, Any]:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        record: dict[str, Any] = {"$type": POST, "text": draft.text, "createdAt": created}
        if draft.language:
            record["langs"] = [draft.language]
        shown = {draft.link_text: draft.link} if draft.link_text else None
        found = facets(draft.text, (draft.link,) if draft.link else (), shown)
        if found:
            record["facets"] = found
        blob = self._blob(draft) if draft.image is not None else None
        if self.embed == "images" and blob is not None and draft.image is not None:
            image = {"image": blob, "alt": draft.image.alt}
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [image]}
        elif draft.link:
            external: dict[str, Any] = {
                "uri": draft.link,
                "title": draft.title,
                "description": draft.description,
            }
            if blob is not None:
                external["thumb"] = blob
            record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        return record

    def _blob(self, draft: Draft) -> dict[str, Any] | None:
        assert draft.image is not None
        image = fetch_image(self.http.session, draft.image.url, max_bytes=MAX_BLOB)
        if image is None:
            return None
        try:
            response = self._xrpc(
                "POST",
                "com.atproto.repo.uploadBlob",
                data=image.data,
                headers={"Content-Type": image.content_type},
            )
        except MaybeSent as exc:  # an unreferenced blob is invisible and garbage-collected
            raise NotSent("bluesky", self.channel.name, f"uploadBlob: {exc.detail}") from None
        blob = body_of(response).get("blob")
        return blob if isinstance(blob, dict) else None

    def _receipt(
        self, rkey: str, data: dict[str, Any], rate: Mapping[str, str] | None = None
    ) -> Receipt:
        handle = (self._session or {}).get("handle") or self.handle
        value = data.get("value") if isinstance(data.get("value"), dict) else {}
        posted = _time((value or {}).get("createdAt"))
        return Receipt(
            "bluesky",
            rkey,
            f"https://bsky.app/profile/{handle}/post/{rkey}",
            posted_at=posted or datetime.now(UTC),
            extra={
                "uri": str(data.get("uri") or ""),
                "cid": str(data.get("cid") or ""),
                **(rate or {}),
            },
        )

    # -- sessions and calls ---------------------------------------------------------------
    def _did(self) -> str:
        return self._login()["did"]

    def _login(self, *, fresh: bool = False) -> dict[str, str]:
        """The session: this adapter's, else the one other processes keep in the store, else a
        new one (createSession is limited to 30 per 5 minutes per account)."""
        if self._session is None and not fresh and self.sessions is not None:
            kept = self.sessions.get(self._cache_key())
            if kept and kept.get("accessJwt") and kept.get("did"):
                self._session, self._kept = self._remember(kept), True
        if self._session is None:
            body = {"identifier": self.handle, "password": self._password.reveal()}
            response = self.http.call("POST", "/xrpc/com.atproto.server.createSession", json=body)
            self._keep(self._session_from(response))
        assert self._session is not None
        return self._session

    def _refresh(self) -> None:
        session = self._login()
        newer = self.sessions.get(self._cache_key()) if self.sessions is not None else None
        if newer and newer.get("accessJwt") not in ("", session["accessJwt"]):
            self._session, self._kept = self._remember(newer), True  # refreshed elsewhere
            return
        headers = {"Authorization": f"Bearer {session['refreshJwt']}"}
        response = self.http.call(
            "POST", "/xrpc/com.atproto.server.refreshSession", headers=headers
        )
        if response.status_code != 200:
            self._session = None  # the refresh token expired too: log in once more
            self._login(fresh=True)
            return
        self._keep(self._session_from(response))

    def _keep(self, session: dict[str, str]) -> None:
        self._session, self._kept = session, False
        if self.sessions is not None:
            self.sessions.put(self._cache_key(), session)

    def _cache_key(self) -> str:
        return f"{self.channel.account_key}@{self.http.base_url}"

    def _session_from(self, response: requests.Response) -> dict[str, str]:
        if response.status_code != 200:
            self._raise(response)
        data = body_of(response)
        return self._remember({k: str(data.get(k) or "") for k in SESSION_KEYS})

    @staticmethod
    def _remember(session: dict[str, str]) -> dict[str, str]:
        for jwt in (session.get("accessJwt"), session.get("refreshJwt")):
            if jwt:
                redact.register(jwt)  # JWTs are bearer secrets too: scrub them from any log
        return {k: str(session.get(k) or "") for k in SESSION_KEYS}

    def _xrpc(self, method: str, nsid: str, **kwargs: Any) -> requests.Response:
        """One call; when it was refused for the session alone (an expired access token, or a
        kept session the server no longer accepts) the session is renewed and the same call sent
        once more: the first was refused before it was processed, so this is no blind retry."""
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._login()['accessJwt']}", **extra}
            response = self.http.call(method, f"/xrpc/{nsid}", headers=headers, **kwargs)
            if response.status_code == 200:
                return response
            if attempt == 1 and self._renewed(response):
                continue
            break
        self._raise(response)

    def _renewed(self, response: requests.Response) -> bool:
        error = body_of(response).get("error")
        if error == "ExpiredToken":
            self._refresh()
            return True
        if self._kept and (response.status_code == 401 or error in AUTH_ERRORS):
            self._forget()
            self._login(fresh=True)
            return True
        return False

    def _forget(self) -> None:
        """Drop the session here and in the store (the server refused it)."""
        self._session, self._kept = None, False
        if self.sessions is not None:
            self.sessions.drop(self._cache_key())

    def _raise(self, response: requests.Response) -> NoReturn:
        status, name = response.status_code, self.channel.name
        body = body_of(response)
        error = str(body.get("error") or "")
        message = scrub(str(body.get("message") or error or f"HTTP {status}"))[:300]
        label = f"{error}: {message}" if error and error != message else message
        if status == 429 or error == "RateLimitExceeded":
            wait, reset = rate_wait(response.headers)
            raise RateLimited("bluesky", name, label, retry_after=wait, reset_at=reset, code=error)
        if status == 401 or error in AUTH_ERRORS or error == "ExpiredToken":
            self._forget()
            raise AuthFailed("bluesky", name, label, status=status, code=error or None)
        if 400 <= status < 500:
            raise Rejected("bluesky", name, label, status=status, code=error or None)
        raise MaybeSent("bluesky", name, f"HTTP {status}: the post may exist", status=status)


def is_ours(draft: Draft, record: Mapping[str, Any]) -> bool:
    """Whether a post record is the draft: the draft's link is the full URL of a link facet or
    of the link card (`embed.external.uri`), normalised; or the text is the same. The visible
    text may show a shortened display link, so the text is never searched for the URL."""
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    external = (embed or {}).get("external")
    uris = [external.get("uri")] if isinstance(external, dict) else []
    for facet in record.get("facets") or []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and feature.get("$type") == LINK_FEATURE:
                uris.append(feature.get("uri"))
    if draft.link and any_same(draft.link, uris):
        return True
    return bool(draft.text.strip()) and record.get("text") == draft.text


def rate_wait(headers: Mapping[str, str]) -> tuple[float, datetime | None]:
    """Seconds until `RateLimit-Reset` (epoch seconds), else Retry-After, else 5 minutes."""
    from distributor.platforms.http import retry_after_seconds

    raw = headers.get("ratelimit-reset")
    try:
        reset = datetime.fromtimestamp(float(raw or ""), UTC)
    except (TypeError, ValueError, OverflowError):
        return retry_after_seconds(headers.get("retry-after"), DEFAULT_RATE_WAIT), None
    return max(0.0, (reset - datetime.now(UTC)).total_seconds()), reset


def rate_extra(headers: Mapping[str, str]) -> dict[str, str]:
    """`rate_remaining`/`rate_reset` from `RateLimit-Remaining/-Reset` (dispatch paces)."""
    left = headers.get("ratelimit-remaining", "")
    try:
        reset = datetime.fromtimestamp(float(headers.get("ratelimit-reset") or ""), UTC)
    except (TypeError, ValueError, OverflowError):
        return {}
    return {"rate_remaining": left, "rate_reset": reset.isoformat()} if left.isdigit() else {}


def _time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
