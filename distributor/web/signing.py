"""Standard Webhooks signatures (https://www.standardwebhooks.com), both sides.

    headers = sign_headers(key, body)   # webhook-id, webhook-timestamp, webhook-signature
    msg_id = verify(keys, headers, body, now=time.time())   # SignatureError(reason) if not

The signed content is `"{id}.{timestamp}.{body}"`, HMAC-SHA256 with the secret's bytes (the
base64 after `whsec_`), sent as `v1,<base64>`; `webhook-signature` may carry several
space-separated signatures (a sender signing with old and new secret during rotation), and we
accept any of our secrets. Svix sends the same scheme as `svix-id`, `svix-timestamp` and
`svix-signature`: each header is read under either name (`webhook-*` first). Comparison is
constant-time (`hmac.compare_digest`).

Written here instead of using the `standardwebhooks` package (tests interoperate with it): its
`verify` reads the wall clock (no injected clock), decodes the body as text, and raises
ValueError/binascii.Error instead of its own error on malformed signature headers, which would
be 500s here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping, Sequence

from distributor.errors import ConfigError

PREFIX = "whsec_"
TOLERANCE = 300.0  # seconds either way, as the specification recommends
MAX_ID = 200  # the webhook_ids column
_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces: ids end up in logs
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only (\d matches other scripts)


class SignatureError(Exception):
    """The request is not signed by us (the reason is safe to show: no secret in it)."""


def parse_secret(value: str, var: str) -> bytes:
    """The key bytes of `whsec_<base64>` (the prefix is optional); ConfigError if malformed."""
    text = value.strip().removeprefix(PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 16:
        raise ConfigError(
            f"environment variable {var}: not a webhook secret (expected whsec_ and the base64 "
            "of 24 to 64 random bytes; make one with `distributor hook secret`)"
        )
    return key


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks format (32 random bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_id() -> str:
    """A random webhook id (`msg_` and 24 hex digits)."""
    return "msg_" + secrets.token_hex(12)


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(
    keys: bytes | Sequence[bytes],
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three headers for `body`, signed with every key given (rotation: old and new)."""
    msg_id = msg_id or new_id()
    if not _ID.fullmatch(msg_id):
        raise ConfigError(f"webhook id {msg_id!r}: use 1 to 200 printable characters, no spaces")
    ts = int(time.time()) if timestamp is None else timestamp
    all_keys = [keys] if isinstance(keys, bytes) else list(keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(signature(k, msg_id, ts, body) for k in all_keys),
    }


def verify(
    keys: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = TOLERANCE,
) -> str:
    """The verified webhook id; SignatureError naming what is wrong otherwise.

    `headers` must look names up case-insensitively (Starlette's and requests' do).
    """
    msg_id, stamp, signatures = (
        _header(headers, name) for name in ("id", "timestamp", "signature")
    )
    if not (msg_id and stamp and signatures):
        raise SignatureError(
            "missing webhook-id, webhook-timestamp or webhook-signature header "
            "(or their svix-* spellings)"
        )
    if not _ID.fullmatch(msg_id):
        raise SignatureError("webhook-id must be 1 to 200 printable characters")
    if not _TIMESTAMP.fullmatch(stamp):
        raise SignatureError("webhook-timestamp must be whole seconds since 1970")
    if abs(now - int(stamp)) > tolerance:
        raise SignatureError(
            f"webhook-timestamp is more than {tolerance:g} s away from the server's clock"
        )
    wanted = [signature(k, msg_id, int(stamp), body).encode() for k in keys]
    for given in signatures.split():
        # compare every candidate against every key: timing reveals nothing about a match
        if any(hmac.compare_digest(given.encode(), w) for w in wanted):
            return msg_id
    raise SignatureError("no valid signature (wrong secret, or the body was changed)")


def _header(headers: Mapping[str, str], field: str) -> str:
    """`webhook-<field>`, else Svix's spelling `svix-<field>` (same scheme, other names: CMS
    plugins send either)."""
    return (headers.get(f"webhook-{field}") or headers.get(f"svix-{field}") or "").strip()
