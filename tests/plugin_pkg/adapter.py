"""The pigeon adapter: one JSON POST per post, errors mapped into the exception tree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from distributor.errors import AuthFailed, MaybeSent, NotSent, RateLimited, Rejected
from distributor.platform import PlatformSpec
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from plugin_pkg import SPEC

if TYPE_CHECKING:
    import requests

    from distributor.secrets import Secret


class PigeonAdapter(RestAdapter):
    """Posts to one loft with a bearer token."""

    spec: ClassVar[PlatformSpec] = SPEC

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["token"]
        self.loft = options["loft"]

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        body = {
            "loft": self.loft,
            "text": draft.text,
            "link": draft.link,
            "image_url": draft.image.url if draft.image else None,
            "key": key,
        }
        data = body_of(self._call("POST", "/v1/pigeons", json=body))
        if not data.get("id"):
            raise MaybeSent(self.spec.name, self.channel.name, "answer without an id")
        return Receipt(self.spec.name, str(data["id"]), posted_at=datetime.now(UTC))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        data = body_of(self._call("GET", "/v1/pigeons", params={"loft": self.loft}))
        for post in data.get("data") or []:
            if post.get("key") == key:
                return Receipt(self.spec.name, str(post["id"]))
        return None

    def delete(self, receipt: Receipt) -> None:
        self._call("DELETE", f"/v1/pigeons/{receipt.remote_id}")

    def verify(self) -> AccountInfo:
        data = body_of(self._call("GET", f"/v1/lofts/{self.loft}"))
        return AccountInfo(self.spec.name, self.loft, str(data.get("name") or self.loft))

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token.reveal()}"}
        response = self.http.call(method, path, headers=headers, **kwargs)
        status, name, channel = response.status_code, self.spec.name, self.channel.name
        if status < 300:
            return response
        detail = str(body_of(response).get("error") or f"HTTP {status}")
        if status in (401, 403):
            raise AuthFailed(name, channel, detail, status=status)
        if status == 429:
            raise RateLimited(name, channel, detail, retry_after=1.0)
        if status >= 500:
            error = MaybeSent if method == "POST" else NotSent
            raise error(name, channel, detail, status=status)
        raise Rejected(name, channel, detail, status=status)
