"""What the Bluesky emulator checks in a post record, with the reference PDS's own messages.

Each rule and message was read off the reference PDS (npm `@atproto/pds` 0.5.35) answering the
same request (tests/interop/pds_answers.json; tests/test_fidelity.py compares): text over 300
graphemes or 3000 UTF-8 bytes, more than 3 `langs` or one that is no BCP-47 tag, and a blob
over 1,000,000 bytes are 400 `InvalidRequest`; a blob reference the repository never received
is 400 `BlobNotFound`. Facets are not checked: the PDS stores byte ranges past the end of the
text without complaint (clients ignore them), and so does the emulator.
"""

from __future__ import annotations

import re
from typing import Any

POST = "app.bsky.feed.post"
MAX_BLOB = 1_000_000
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_LANGS = 3
# BCP-47 as atproto's syntax checks accept it: a 2-3 letter language (or `i`) with subtags,
# or a private-use `x-...` tag; the atproto-interop-tests language vectors pass and fail with it.
_LANGUAGE = re.compile(r"(?:(?:[a-z]{2,3}|i)(?:-[A-Za-z0-9]{1,8})*|[xX](?:-[A-Za-z0-9]{1,8})+)")


def valid_language(tag: str) -> bool:
    return bool(_LANGUAGE.fullmatch(tag))


def _invalid(detail: str) -> tuple[str, str]:
    return "InvalidRequest", f"Invalid {POST} record: {detail}"


def check_record(record: dict[str, Any]) -> tuple[str, str] | None:
    """(error, message) for a record the PDS refuses on its shape, else None."""
    text = record.get("text")
    if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
        return _invalid("Record must have the properties text and createdAt")
    return _text(text) or _langs(record.get("langs")) or _blob_sizes(record.get("embed"))


def _text(text: str) -> tuple[str, str] | None:
    import regex

    graphemes = len(regex.findall(r"\X", text))
    if graphemes > MAX_GRAPHEMES:
        return _invalid(
            f"grapheme too big (maximum {MAX_GRAPHEMES}, got {graphemes}) at $.record.text"
        )
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return _invalid(f"string too big (maximum {MAX_BYTES}, got {size}) at $.record.text")
    return None


def _langs(langs: Any) -> tuple[str, str] | None:
    if langs is None:
        return None
    if not isinstance(langs, list):
        return _invalid("Expected array value type at $.record.langs")
    if len(langs) > MAX_LANGS:
        return _invalid(f"array too big (maximum {MAX_LANGS}, got {len(langs)}) at $.record.langs")
    for i, tag in enumerate(langs):
        if not isinstance(tag, str) or not valid_language(tag):
            return _invalid(f'Invalid language (got "{tag}") at $.record.langs[{i}]')
    return None


def blobs(embed: Any) -> list[tuple[str, dict[str, Any]]]:
    """(path, blob ref) of every blob a post's embed references."""
    if not isinstance(embed, dict):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    thumb = (embed.get("external") or {}).get("thumb")
    if isinstance(thumb, dict):
        found.append(("$.record.embed.external.thumb", thumb))
    for i, image in enumerate(embed.get("images") or []):
        if isinstance(image, dict) and isinstance(image.get("image"), dict):
            found.append((f"$.record.embed.images[{i}].image", image["image"]))
    return found


def _blob_sizes(embed: Any) -> tuple[str, str] | None:
    for path, blob in blobs(embed):
        size = blob.get("size")
        if isinstance(size, int) and size > MAX_BLOB:
            return _invalid(f"blob too big (maximum {MAX_BLOB}, got {size}) at {path}")
    return None


def blob_cid(blob: dict[str, Any]) -> str:
    ref = blob.get("ref")
    return str(ref.get("$link") or "") if isinstance(ref, dict) else ""


def sniff(data: bytes, declared: str) -> str:
    """The MIME type the bytes show, else what the client declared (the reference PDS stored a
    PNG sent as application/octet-stream as image/png; the other signatures are the formats')."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return declared or "application/octet-stream"
