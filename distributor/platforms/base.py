"""What every platform adapter is: the `Adapter` protocol and the values it exchanges.

`Draft` is what rendering produces and what an adapter publishes (the exact text, counted and
fitted). `Receipt` is what a platform gave back. Adapters make exactly one attempt per call and
raise only the classes of `distributor.errors.PublishError`; retrying is dispatch's job.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from distributor.article import Image


class Ambiguity(enum.Enum):
    """What reconciliation may do when a send's outcome is unknown."""

    RESEND_WITH_KEY = "resend_with_key"  # the platform de-duplicates on our key (Mastodon)
    LOOKUP = "lookup"  # find our own post by key or content (Bluesky rkey, X, Facebook)
    HOLD = "hold"  # no key, no history: a human decides (Telegram)


@dataclass(frozen=True, slots=True)
class Limits:
    """A platform's text limits as `distributor.limits` counts them."""

    text: int
    caption: int | None = None  # a shorter limit when the post is an image caption (Telegram)


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


@runtime_checkable
class Adapter(Protocol):
    """A platform client. Built with an injected session and base URL (see registry)."""

    name: ClassVar[str]
    limits: ClassVar[Limits]
    on_ambiguous: ClassVar[Ambiguity]

    def publish(self, draft: Draft, *, key: str) -> Receipt:
        """Make exactly one attempt to post `draft`; `key` is the delivery's idempotency key."""
        ...

    def lookup(self, draft: Draft, *, key: str, since: datetime) -> Receipt | None:
        """Find a post of ours for this draft created after `since`; None if provably absent."""
        ...

    def delete(self, receipt: Receipt) -> None:
        """Remove a post (retract)."""
        ...

    def verify(self) -> AccountInfo:
        """Check the credentials and return the account they belong to."""
        ...
