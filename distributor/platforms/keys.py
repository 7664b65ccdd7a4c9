"""Deterministic per-delivery keys: the idempotency key and the Bluesky record key (TID).

`delivery_key(article_id, channel, generation)` is the same on every attempt of one delivery and
different for a deliberate re-post (a new generation). Mastodon receives it as `Idempotency-Key`;
Bluesky gets `bluesky_tid(key, when)`, a valid atproto TID (https://atproto.com/specs/record-key,
`tid` syntax) minted from the key and the delivery's creation time, so a retried create names the
same record and reconciliation can `getRecord` it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
TID_SYNTAX = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_SEP = "\x1f"  # unit separator: cannot occur in article ids or channel names by accident


def delivery_key(article_id: str, channel: str, generation: int = 0) -> str:
    """A 32-hex-digit key for one (article, channel, generation) delivery."""
    if not article_id or not channel:
        raise ValueError("delivery_key needs a non-empty article id and channel name")
    if generation < 0:
        raise ValueError(f"delivery_key: generation must be >= 0, not {generation}")
    raw = _SEP.join((article_id, channel, str(generation))).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]


def bluesky_tid(key: str, when: datetime) -> str:
    """A TID for `key`: 53 bits of microseconds since the epoch, then a 10-bit clock id.

    The timestamp is `when` to the millisecond plus 0..999 microseconds taken from the key, and
    the clock id is 10 more bits of the key, so two deliveries created in the same millisecond
    collide only with probability 2**-20. Naive datetimes are taken as UTC (never local time,
    which would make the key depend on the machine).
    """
    if not key:
        raise ValueError("bluesky_tid needs a non-empty key")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    millis = int(when.timestamp() * 1000)
    if millis < 0:
        raise ValueError("bluesky_tid: the time must be after 1970")
    micros = millis * 1000 + digest % 1000
    clock_id = (digest >> 10) & 0x3FF
    value = (micros << 10) | clock_id  # the top bit stays 0 until the year 287,000
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_time(tid: str) -> datetime:
    """The timestamp a TID carries (microsecond precision)."""
    if not TID_SYNTAX.fullmatch(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)
