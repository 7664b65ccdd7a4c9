"""What every platform adapter is: the `Adapter` protocol.

The values it exchanges live on the ground floor and are re-exported here: `Draft` and `Receipt`
(`distributor.post`), `PlatformSpec`, `Limits` and `Ambiguity` (`distributor.platform`). An
adapter reads its platform's facts from its `spec`. Adapters make exactly one attempt per call and
raise only the classes of `distributor.errors.PublishError`; retrying is dispatch's job.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from distributor.platform import Ambiguity, Limits, PlatformSpec
from distributor.post import AccountInfo, Draft, Receipt


@runtime_checkable
class Adapter(Protocol):
    """A platform client. Built with an injected session and base URL (see registry)."""

    spec: ClassVar[PlatformSpec]  # what the platform is: name, limits, ambiguity policy, ...

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        """Make exactly one attempt to post `draft`; `key` is the delivery's idempotency key and
        `when` its creation time (dispatch passes both; an adapter may derive ids from them)."""
        ...

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Find a post of ours for this draft created after `since`; None if provably absent.
        `key` and `when` are the delivery's, as `publish` got them."""
        ...

    def delete(self, receipt: Receipt) -> None:
        """Remove a post (retract)."""
        ...

    def verify(self) -> AccountInfo:
        """Check the credentials and return the account they belong to."""
        ...


__all__ = ["AccountInfo", "Adapter", "Ambiguity", "Draft", "Limits", "PlatformSpec", "Receipt"]
