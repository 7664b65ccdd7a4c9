"""Bluesky PDS emulator: sessions, uploadBlob, create/get/list/deleteRecord with client rkeys.

What tests/test_fidelity.py shows equal to the reference PDS (`@atproto/pds` 0.5.35, answers
recorded in tests/interop/pds_answers.json): status codes, `{"error", "message"}` bodies and
their messages, body keys and the headers clients read for: a bad login (401
AuthenticationRequired), no token (401 AuthMissing), getSession (`active`, and `status` once
the account is deactivated), deactivateAccount (400 InvalidToken "Bad token scope" for an
app-password session; 401 AccountDeactivated for posts after it), record checks
(`distributor.sandbox.bluesky_records`), an unknown blob (400 BlobNotFound), another account's
`repo` (401 AuthenticationRequired), an existing rkey (500 InternalServerError), a missing
record (400 RecordNotFound), uploadBlob's MIME type taken from the bytes, and, with a limit on
`session` like the PDS's 30 per 5 minutes, RateLimit-* headers and a 429 with Retry-After.

Not compared with the PDS: ExpiredToken after `kv["access_ttl"]` seconds (default 7200; the
adapter's refresh path), refreshSession, listRecords, `kv["rkey_conflict"] = "explicit"` (400
RecordAlreadyExists, as other PDS versions may answer). App passwords look like the PDS's
(`xxxx-xxxx-xxxx-xxxx`); any other password is taken as the account password; a password
containing `invalid` is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

from distributor.sandbox.bluesky_records import POST, blob_cid, blobs, check_record, sniff
from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page


def did_for(handle: str) -> str:
    """Each account (handle) has its own repository, as on a real PDS."""
    digest = hashlib.sha256(handle.encode("utf-8")).digest()
    return "did:plc:" + base64.b32encode(digest).decode("ascii")[:24].lower()  # base32, as PLC


_APP_PASSWORD = re.compile(r"[a-z2-7]{4}(?:-[a-z2-7]{4}){3}")
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_KINDS = {
    "auth": (401, "AuthenticationRequired", "Invalid identifier or password"),
    "forbidden": (401, "InvalidToken", "Bad token scope"),
    "invalid": (400, "InvalidRequest", "Invalid app.bsky.feed.post record"),
    "duplicate": (400, "InvalidRequest", "Record already exists"),
    "not_found": (400, "RecordNotFound", "Could not locate record"),
}


def fail(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"error": error, "message": message})


class BlueskyEmulator(Emulator):
    """The XRPC methods `distributor` uses."""

    platform = "bluesky"

    def routes(self) -> list[Route]:
        x = r"/xrpc/"
        return [
            Route(
                "POST", x + r"com\.atproto\.server\.createSession", self.create_session, "session"
            ),
            Route("POST", x + r"com\.atproto\.server\.refreshSession", self.refresh, "refresh"),
            Route(
                "POST",
                x + r"com\.atproto\.server\.deactivateAccount",
                self.deactivate,
                "deactivate",
            ),
            Route("GET", x + r"com\.atproto\.server\.getSession", self.get_session, "verify"),
            Route("POST", x + r"com\.atproto\.repo\.uploadBlob", self.upload_blob, "media"),
            Route("POST", x + r"com\.atproto\.repo\.createRecord", self.create, "create"),
            Route("GET", x + r"com\.atproto\.repo\.getRecord", self.get_record, "lookup"),
            Route("GET", x + r"com\.atproto\.repo\.listRecords", self.list_records, "lookup"),
            Route("POST", x + r"com\.atproto\.repo\.deleteRecord", self.delete, "delete"),
        ]

    @property
    def _kv(self) -> dict[str, Any]:
        kv: dict[str, Any] = self.state.kv.setdefault("bluesky", {})
        return kv

    # -- sessions -------------------------------------------------------------------------
    def create_session(self, req: Request) -> Reply:
        body = req.json() or {}
        handle = str(body.get("identifier") or "").lstrip("@")
        password = str(body.get("password") or "")
        if not handle or not password or "invalid" in password:
            return fail(401, "AuthenticationRequired", "Invalid identifier or password")
        scope = "app" if _APP_PASSWORD.fullmatch(password) else "full"
        return Reply(200, {**self._new_session(handle, scope), **self._account(handle)})

    def refresh(self, req: Request) -> Reply:
        session = self._session(req, "refresh")
        if isinstance(session, Reply):
            return session
        handle = session["handle"]
        return Reply(200, {**self._new_session(handle, session["scope"]), **self._account(handle)})

    def get_session(self, req: Request) -> Reply:
        session = self._session(req)
        if isinstance(session, Reply):
            return session
        return Reply(200, self._account(session["handle"]))

    def deactivate(self, req: Request) -> Reply:
        session = self._session(req)
        if isinstance(session, Reply):
            return session
        if session["scope"] != "full":
            return fail(400, "InvalidToken", "Bad token scope")
        with self.state.lock:
            self._kv.setdefault("deactivated", set()).add(session["handle"])
        return Reply(200, None, content_type="")

    def _account(self, handle: str) -> dict[str, Any]:
        """What getSession tells about the account (`status` only when not active)."""
        active = handle not in self._kv.get("deactivated", ())
        account: dict[str, Any] = {"did": did_for(handle), "handle": handle}
        account.update(email=f"{handle}@example.com", emailConfirmed=False, active=active)
        return account if active else {**account, "status": "deactivated"}

    def _new_session(self, handle: str, scope: str) -> dict[str, Any]:
        access, refresh = f"eyJ.acc.{secrets.token_hex(8)}", f"eyJ.ref.{secrets.token_hex(8)}"
        with self.state.lock:
            tokens = self._kv.setdefault("tokens", {})
            now = self.state.now()
            tokens[access] = {"handle": handle, "kind": "access", "at": now, "scope": scope}
            tokens[refresh] = {"handle": handle, "kind": "refresh", "at": now, "scope": scope}
        return {"accessJwt": access, "refreshJwt": refresh}

    def _session(self, req: Request, kind: str = "access") -> dict[str, Any] | Reply:
        auth = req.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            return fail(401, "AuthMissing", "Authentication Required")
        info = self._kv.get("tokens", {}).get(token)
        if info is None or info["kind"] != kind:
            return fail(400, "InvalidToken", "Token could not be verified")
        ttl = self._kv.get("access_ttl" if kind == "access" else "refresh_ttl", 7200.0)
        if self.state.now() - info["at"] > ttl:
            return fail(400, "ExpiredToken", "Token has expired")
        return dict(info)

    # -- repo -----------------------------------------------------------------------------
    def upload_blob(self, req: Request) -> Reply:
        session = self._session(req)
        if isinstance(session, Reply):
            return session
        cid = "bafkrei" + hashlib.sha256(req.body).hexdigest()[:52]
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": sniff(req.body, req.content_type),
            "size": len(req.body),
        }
        with self.state.lock:
            self._kv.setdefault("blobs", {})[cid] = blob
        return Reply(200, {"blob": blob})

    def create(self, req: Request) -> Reply:
        session = self._session(req)
        if isinstance(session, Reply):
            return session
        body = req.json() or {}
        refused = self._refuse_write(session, body)
        if refused is not None:
            return refused
        record = body.get("record") if isinstance(body.get("record"), dict) else None
        if body.get("collection") != POST or record is None:
            return fail(400, "InvalidRequest", 'Input must have the property "record"')
        rkey = str(body.get("rkey") or "")
        if rkey and not _TID.fullmatch(rkey):
            return fail(400, "InvalidRequest", "Invalid record key: must be a valid TID")
        problem = check_record(record) or self._missing_blob(record)
        if problem:
            return fail(400, *problem)
        did = did_for(session["handle"])
        with self.state.lock:
            records = self._kv.setdefault("records", {})
            if rkey and f"{did}/{rkey}" in records:
                if self._kv.get("rkey_conflict") == "explicit":
                    return fail(400, "RecordAlreadyExists", "Record already exists")
                return fail(500, "InternalServerError", "Internal Server Error")
            post = self.state.record("bluesky", did, str(record.get("text", "")), {})
            rkey = rkey or post.id
            post.data.update(rkey=rkey, record=record, embed=record.get("embed"))
            post.data["facets"] = record.get("facets") or []
            records[f"{did}/{rkey}"] = post.id
        commit = {"cid": self._ref(did, f"commit/{rkey}")["cid"], "rev": rkey}
        return Reply(200, {**self._ref(did, rkey), "commit": commit, "validationStatus": "valid"})

    def get_record(self, req: Request) -> Reply:
        did = self._repo(req.query.get("repo") or [""])
        rkey = (req.query.get("rkey") or [""])[0]
        post = self._post(did, rkey)
        if post is None:
            return fail(400, "RecordNotFound", f"Could not locate record: at://{did}/{POST}/{rkey}")
        return Reply(200, {**self._ref(did, rkey), "value": post.data["record"]})

    def list_records(self, req: Request) -> Reply:
        """Newest record key first, `limit` at a time; `cursor` (the last rkey of a page)
        continues below it, as the PDS pages."""
        did = self._repo(req.query.get("repo") or [""])
        keys = sorted(self._kv.get("records", {}), reverse=True)
        rkeys = [k.split("/", 1)[1] for k in keys if k.startswith(f"{did}/")]
        cursor = (req.query.get("cursor") or [""])[0]
        if cursor:
            rkeys = [k for k in rkeys if k < cursor]
        items = [
            {**self._ref(did, k), "value": p.data["record"]}
            for k in rkeys
            if (p := self._post(did, k)) is not None
        ]
        page = items[: int((req.query.get("limit") or ["50"])[0])]
        body: dict[str, Any] = {"records": page}
        if page and len(page) < len(items):
            body["cursor"] = str(page[-1]["uri"]).rsplit("/", 1)[-1]
        return Reply(200, body)

    def delete(self, req: Request) -> Reply:
        session = self._session(req)
        if isinstance(session, Reply):
            return session
        body = req.json() or {}
        refused = self._refuse_write(session, body)
        if refused is not None:
            return refused
        rkey = str(body.get("rkey") or "")
        did = did_for(session["handle"])
        with self.state.lock:
            post_id = self._kv.get("records", {}).pop(f"{did}/{rkey}", None)
            if post_id is not None:
                self.state.delete("bluesky", post_id)
        return Reply(200, {"commit": {"cid": "bafyreisandbox", "rev": "3lsandbox"}})

    # -- helpers --------------------------------------------------------------------------
    def _repo(self, values: list[str]) -> str:
        """A `repo` parameter is a DID or a handle; a handle names the account's DID."""
        repo = values[0] if values else ""
        return repo if repo.startswith("did:") else did_for(repo.lstrip("@"))

    def _post(self, did: str, rkey: str) -> Any:
        post_id = self._kv.get("records", {}).get(f"{did}/{rkey}")
        post = self.state.find("bluesky", post_id) if post_id else None
        return None if post is None or post.deleted else post

    def _ref(self, did: str, rkey: str) -> dict[str, str]:
        cid = "bafyrei" + hashlib.sha256(f"{did}/{rkey}".encode()).hexdigest()[:52]
        return {"uri": f"at://{did}/{POST}/{rkey}", "cid": cid}

    def _refuse_write(self, session: dict[str, Any], body: Any) -> Reply | None:
        """A write to another account's repository, or by a deactivated account."""
        repo = str(body.get("repo") or "") if isinstance(body, dict) else ""
        if repo not in (did_for(session["handle"]), session["handle"]):
            return fail(401, "AuthenticationRequired", "Authentication Required")
        if session["handle"] in self._kv.get("deactivated", ()):
            return fail(401, "AccountDeactivated", "Account is deactivated")
        return None

    def _missing_blob(self, record: dict[str, Any]) -> tuple[str, str] | None:
        known = self._kv.get("blobs", {})
        for _, blob in blobs(record.get("embed")):
            cid = blob_cid(blob)
            if cid not in known:
                return "BlobNotFound", f"Could not find blob: {cid}"
        return None

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        code, error, message = _KINDS.get(kind, (status, "", ""))
        if code != status or not error:
            by_status = {code: (err, msg) for code, err, msg in reversed(list(_KINDS.values()))}
            by_status[429] = ("RateLimitExceeded", "Rate Limit Exceeded")
            by_status[502] = ("UpstreamFailure", "Upstream Failure")
            fallback = ("InternalServerError", "Internal Server Error")
            error, message = by_status.get(
                status, fallback if status >= 500 else ("InvalidRequest", "Invalid request")
            )
        return fail(status, error, message)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        headers = self.rate_headers(limit, 0, reset_at)
        headers["Retry-After"] = str(max(0, int(reset_at - self.state.now() + 0.999)))
        return Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        window = max(1, int(reset_at - self.state.now() + 0.999))
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, remaining)),
            "RateLimit-Reset": str(int(reset_at + 0.999)),
            "RateLimit-Policy": f"{limit};w={window}",
        }
