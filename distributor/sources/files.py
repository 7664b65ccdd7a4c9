"""Read raw input (file, stdin, http(s) URL) and decode the JSON/YAML article formats.

Reading is kept apart from parsing so that every format sees the same bytes, limits and error
wording: each error is one line that starts with the file name, the URL or `<stdin>`.
Only the JSON path is on the preview's cold start, so PyYAML and requests load lazily; the
article model and the teaser load when articles are built (the configuration reads its fetch
limits from here on every command's start, most of which read no article).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from distributor.errors import ArticleError

if TYPE_CHECKING:
    from distributor.article import Article

MAX_FILE_BYTES = 64 * 1024 * 1024  # a local 10,000-item feed still fits
MAX_FETCH_BYTES = 5 * 1024 * 1024  # pages and feeds from the network
FETCH_DEADLINE = 30.0  # a whole fetch, connect to last byte (`distributor.fetch`)
# Articles come as text or application/* (feeds, JSON, YAML, pages; content decides which);
# images, audio and video are refused before their body is read.
TEXT_TYPES = ("text/", "application/", "")
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/html;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)


UNKNOWN_FORMAT = (
    "not an article: expected JSON, YAML (with url and title), an RSS/Atom feed or an HTML page"
    " (a plain-text article needs --url URL)"
)


@dataclass(frozen=True, slots=True)
class Raw:
    """Input bytes and where they came from (`where` starts every error message)."""

    data: bytes
    where: str
    url: str | None = None  # the final URL of a fetch, after redirects
    content_type: str = ""  # HTTP Content-Type, lower-case, when known
    suffix: str = ""  # file extension, lower-case, e.g. ".json"
    status: int = 200  # HTTP status of a fetch (304: not modified, `data` is empty)
    etag: str | None = None  # validators of a fetch, for the next conditional GET
    last_modified: str | None = None


def read_file(path: str | Path) -> Raw:
    """The bytes of a local file, with OS errors turned into one-line ArticleErrors."""
    where = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ArticleError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ArticleError(f"{where}: is a directory, not an article file") from None
    except PermissionError:
        raise ArticleError(f"{where}: permission denied") from None
    except OSError as exc:
        raise ArticleError(f"{where}: cannot read file ({exc.strerror or exc})") from None
    except ValueError:  # "embedded null byte": not a path any file can have
        raise ArticleError(f"{where!r}: not a file name") from None
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(f"{where}: file is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return Raw(data, where, suffix=Path(path).suffix.lower())


def read_stream(stream: IO[str] | IO[bytes], where: str = "<stdin>") -> Raw:
    """Everything on a text or binary stream (stdin); bytes are kept for feed encodings."""
    if stream.isatty():  # nothing piped in: say so instead of waiting for the keyboard
        raise ArticleError(f"{where}: nothing piped in; use `- < article.json` or a file name")
    source: Any = getattr(stream, "buffer", stream)
    try:
        chunk = source.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError:
        raise ArticleError(f"{where}: input is not UTF-8 text") from None
    except OSError as exc:
        raise ArticleError(f"{where}: cannot read ({exc.strerror or exc})") from None
    data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(f"{where}: input is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return Raw(data, where)


def fetch_url(url: str, *, rules: Any = None, headers: Mapping[str, str] | None = None) -> Raw:
    """GET an http(s) URL through the fetch guard (`distributor.fetch`), as a Raw.

    `rules` (a `fetch.Rules`) says which hosts, how long and how much; without it, the command
    line's rules: any host (the user typed the URL), `FETCH_DEADLINE`, `MAX_FETCH_BYTES`.
    `headers` are added (If-None-Match / If-Modified-Since: a 304 is an empty Raw, status 304).
    """
    from distributor.fetch import FetchError, Rules, fetch
    from distributor.sources.hosts import HostPolicy

    if rules is None:
        anywhere = HostPolicy(("*",), allow_private=True, table="")
        rules = Rules(anywhere, FETCH_DEADLINE, MAX_FETCH_BYTES)
    rules = replace(rules, types=TEXT_TYPES)
    try:
        got = fetch(url, rules, headers={"Accept": ACCEPT, **(headers or {})})
    except FetchError as exc:
        raise ArticleError(f"{url}: {exc}") from None
    return Raw(
        got.data,
        url,
        url=got.url,
        content_type=got.content_type,
        suffix=Path(got.url.split("?", 1)[0]).suffix.lower(),
        status=got.status,
        etag=got.etag,
        last_modified=got.last_modified,
    )


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 (or BOM-marked UTF-16) text; binary data gets a clear error instead of mojibake."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleError(f"{where}: input is not valid UTF-16 text") from None
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{where}: binary data, not an article (JSON, YAML, feed or page)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{where}: input is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save it as UTF-8"
        ) from None


def parse_json(text: str, where: str) -> list[Article]:
    """Articles from JSON text: one object or a list of objects."""
    from distributor.untrusted import JSONRefused, loads

    try:
        data = loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleError(
            f"{where}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except JSONRefused as exc:  # nesting, huge numbers, lone surrogates
        raise ArticleError(f"{where}: not valid JSON: {exc.msg}") from None
    return articles_from_data(data, where)


def parse_yaml(text: str, where: str, *, guessed: bool = False) -> list[Article]:
    """Articles from YAML text: one mapping or a list of mappings.

    `guessed`: the input had no YAML extension, so text that is not an article mapping is
    reported as an unknown format rather than as broken YAML.
    """
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        if guessed:
            raise ArticleError(f"{where}: {UNKNOWN_FORMAT}") from None
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ArticleError(f"{where}: not valid YAML: {problem}{at}") from None
    if guessed and not _looks_like_articles(data):
        raise ArticleError(f"{where}: {UNKNOWN_FORMAT}")
    return articles_from_data(data, where)


def _looks_like_articles(data: Any) -> bool:
    first = data[0] if isinstance(data, list) and data else data
    return isinstance(first, Mapping) and ("url" in first or "title" in first)


def articles_from_data(data: Any, where: str) -> list[Article]:
    """Validate decoded JSON/YAML: an article object or a non-empty list of them."""
    from distributor.article import Article
    from distributor.teaser import fill_teaser

    if data is None:
        raise ArticleError(f"{where}: empty input")
    if isinstance(data, Mapping):
        return [fill_teaser(Article.from_dict(data, where))]
    if isinstance(data, list):
        if not data:
            raise ArticleError(f"{where}: empty list, no articles")
        return [
            fill_teaser(Article.from_dict(item, f"{where}: item {n}"))
            for n, item in enumerate(data, 1)
        ]
    kind = "text" if isinstance(data, str) else type(data).__name__
    raise ArticleError(f"{where}: expected an article object or a list of them, got {kind}")
