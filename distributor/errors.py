"""The exception tree of `distributor`, which is also its retry policy.

    DistributorError
    ├── ConfigError, ArticleError, TemplateError, StoreError    user-facing, one clear line
    └── PublishError(platform, channel, detail)
        ├── NotSent          proven not delivered: connect errors, 429, 5xx before send -> retry
        │   └── RateLimited(retry_after)   reschedule the delivery; never sleep a worker for long
        ├── MaybeSent        read timeout, reset or 5xx after send -> reconcile, never blind retry
        └── Rejected         permanent: validation, forbidden
            ├── DuplicateContent   the platform says "already posted": reconcile by lookup
            └── AuthFailed         mark the channel needs_reauth, alert once, stop sending there

Only `NotSent` may be retried blindly (dispatch wraps exactly one HTTP attempt in tenacity for it).
`MaybeSent` and `DuplicateContent` go to reconciliation; everything else is final.
Messages never carry secret values: adapters build them from status codes and platform error
names, and the redaction filter in `distributor.redact` scrubs whatever slips through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


def N_(message: str) -> str:  # the gettext name message extractors look for
    """Mark a message for the admin UI's catalogue (`make messages`); it is shown translated."""
    return message


@dataclass(frozen=True, slots=True)
class Say:
    """A message in English with its values; `text` is its id in the admin UI's catalogue, so
    the desk shows it in the reader's language while the CLI prints the English."""

    text: str = ""
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text % dict(self.params) if self.params else self.text

    def __bool__(self) -> bool:
        return bool(self.text)


class DistributorError(Exception):
    """Base of every error `distributor` raises on purpose."""

    exit_code = 1


class Told(DistributorError):
    """An error whose message is a `Say` (`str(exc)` is the English; `exc.say` translates)."""

    def __init__(self, message: str | Say, /, **params: object) -> None:
        self.say = message if isinstance(message, Say) else Say(message, params)
        super().__init__(str(self.say))


class ConfigError(DistributorError):
    """Bad `distributor.toml`, `.env` or command-line settings."""

    exit_code = 2


class ArticleError(DistributorError):
    """An article, feed or page that cannot be turned into a valid `Article`."""

    exit_code = 2


class TemplateError(DistributorError):
    """A template that fails to compile or render, or whose fixed parts exceed the limit."""

    exit_code = 2


class StoreError(DistributorError):
    """The post log cannot be opened, migrated or written."""

    exit_code = 3


class StoreFull(StoreError):
    """The store's disk is full: the write was rolled back. A worker stops on it (sending
    posts whose outcome cannot be recorded would only make work for reconcile)."""


class StaleLease(StoreError):
    """A worker wrote with a fencing token that is no longer current (its lease was taken over)."""


class PublishError(DistributorError):
    """A delivery attempt failed; the subclass says whether it is safe to retry."""

    exit_code = 4

    def __init__(
        self,
        platform: str,
        channel: str,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.platform = platform
        self.channel = channel
        self.detail = detail
        self.status = status
        self.code = code
        super().__init__(f"{platform}/{channel}: {detail}")

    @property
    def kind(self) -> str:
        """The class name, as stored in the post log's attempts."""
        return type(self).__name__


class NotSent(PublishError):
    """Proven not delivered (connection refused, 429, 5xx before the request was read)."""


class RateLimited(NotSent):
    """The platform refused for rate reasons; retry no earlier than `retry_after` seconds."""

    def __init__(
        self,
        platform: str,
        channel: str,
        detail: str,
        *,
        retry_after: float,
        reset_at: datetime | None = None,
        status: int | None = 429,
        code: str | None = None,
    ) -> None:
        super().__init__(platform, channel, detail, status=status, code=code)
        self.retry_after = max(0.0, float(retry_after))
        self.reset_at = reset_at


class MaybeSent(PublishError):
    """The outcome is unknown: the post may exist. Reconcile; never retry blindly."""


class Rejected(PublishError):
    """Permanent refusal (validation, permission). Retrying the same request will not help."""


class DuplicateContent(Rejected):
    """The platform reports the post as a duplicate: look it up instead of resending."""


class AuthFailed(Rejected):
    """Credentials are invalid, expired or lack permission: the channel needs re-authentication."""
