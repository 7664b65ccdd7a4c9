"""The values a post is made of on its way out: `Draft` (rendered) and `Receipt` (sent).

`Draft` is what rendering produces and what an adapter publishes: the exact text, counted and
fitted, with everything the template put in it (the credit line too). `Receipt` is what a
platform gave back; `AccountInfo` is who a channel's credentials belong to. Ground floor: these
are plain values, imported by rendering, the store, dispatch and the adapters alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from distributor.article import Image


@dataclass(frozen=True, slots=True)
class Draft:
    """One rendered, fitted post for one channel: exactly what will be sent."""

    channel: str
    platform: str
    article_id: str
    text: str
    link: str  # the article URL as posted (with utm parameters)
    title: str = ""
    description: str = ""
    image: Image | None = None
    language: str | None = None
    length: int = 0
    limit: int = 0
    format: str = "text"  # "text" or "html" (Telegram parse_mode=HTML)
    link_text: str = (
        ""  # how the text shows `link` when shortened (Bluesky: "news.de/politik/wladi…")
    )

    def to_dict(self) -> dict[str, object]:
        image = None
        if self.image is not None:
            image = {"url": self.image.url, "alt": self.image.alt, "credit": self.image.credit}
        return {
            "channel": self.channel,
            "platform": self.platform,
            "article_id": self.article_id,
            "text": self.text,
            "link": self.link,
            "title": self.title,
            "description": self.description,
            "image": image,
            "language": self.language,
            "length": self.length,
            "limit": self.limit,
            "format": self.format,
            "link_text": self.link_text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Draft:
        raw_image = data.get("image")
        image = Image(**raw_image) if isinstance(raw_image, Mapping) else None
        values = {k: v for k, v in data.items() if k != "image"}
        return cls(image=image, **values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the platform returned for a post: its id and public URL."""

    platform: str
    remote_id: str
    url: str | None = None
    posted_at: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """Who the credentials belong to, as `distributor check` reports it."""

    platform: str
    account_id: str
    name: str
    url: str | None = None


__all__ = ["AccountInfo", "Draft", "Receipt"]
