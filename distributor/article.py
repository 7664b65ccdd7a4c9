"""The `Article` model: validated fields, canonical URL and identity.

Every source (file, stdin, feed, HTML page, webhook, Python API) ends in `Article.from_dict`
or the constructor, so validation and identity are the same whatever the door.

Identity: the canonical URL (lower-case scheme and host, no default port, no fragment, no
`utm_*` or other tracking parameters, no trailing slash) hashed into `article_id`. A CMS guid is
kept as a second key (`identity_keys`): the store treats a match on either key as the same story,
so a feed item and a CLI file without a guid are still one article, and a slug edit with a
stable guid is not a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from distributor.errors import ArticleError
from distributor.links import IDENTITY_PREFIXES, IDENTITY_STRIP
from distributor.untrusted import clean_text, clean_url

TRACKING_PARAMS = IDENTITY_STRIP  # what the article id ignores (see distributor.links)
TRACKING_PREFIXES = IDENTITY_PREFIXES


@dataclass(frozen=True, slots=True)
class Image:
    """An article's lead image: absolute URL, alt text and photo credit ("Bild: ...")."""

    url: str
    alt: str = ""
    credit: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.url, str):
            object.__setattr__(self, "url", clean_url(self.url, "image.url"))
        object.__setattr__(self, "alt", clean_text(self.alt, "image.alt"))
        object.__setattr__(self, "credit", clean_text(self.credit, "image.credit"))


@dataclass(frozen=True, slots=True)
class Article:
    """A validated news article, as every part of the pipeline sees it."""

    url: str
    title: str
    teaser: str | None = None
    body: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    image: Image | None = None
    guid: str | None = None
    # Scheduling (docs/scheduling.md): not before `publish_at`, never before `embargo_until`
    # (naive times are the newsroom's wall clock), "breaking" skips quiet hours and queues first.
    publish_at: datetime | None = None
    embargo_until: datetime | None = None
    priority: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _clean_fields(self)  # the constructor is a door too: the same rule as from_dict
        if not isinstance(self.title, str) or not self.title.strip():
            raise ArticleError("missing title")
        check_url(self.url, "url")
        if self.image is not None:
            check_url(self.image.url, "image.url")

    @property
    def canonical_url(self) -> str:
        return canonical_url(self.url)

    @property
    def article_id(self) -> str:
        """A stable 16-hex-digit id derived from the canonical URL."""
        return _article_id(self.url)

    def identity_keys(self) -> tuple[str, ...]:
        """Keys under which the store recognises this story again (URL first, then guid)."""
        keys = ["url:" + self.canonical_url]
        if self.guid:
            keys.append("guid:" + self.guid.strip())
        return tuple(keys)

    def with_teaser(self, teaser: str | None) -> Article:
        return replace(self, teaser=teaser)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that `from_dict` reads back into an equal article."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Image):
                value = {"url": value.url, "alt": value.alt, "credit": value.credit}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "article") -> Article:
        """Validate a decoded JSON/YAML mapping; errors read `<where>: <problem>`."""
        try:
            return _from_dict(data)
        except ArticleError as exc:
            raise ArticleError(f"{where}: {exc}") from None


_TEXT_FIELDS = ("url", "title", "teaser", "body", "section", "language", "author", "guid")
_CLEANED = ("title", "teaser", "body", "section", "author", "guid")


def _clean_fields(article: Article) -> None:
    """Apply `untrusted.clean_text` / `clean_url` to the text fields and tags (NUL refused)."""
    for name in _CLEANED:
        value = getattr(article, name)
        if isinstance(value, str):
            object.__setattr__(article, name, clean_text(value, name))
    if isinstance(article.url, str):
        object.__setattr__(article, "url", clean_url(article.url, "url"))
    if article.tags:
        tags = tuple(clean_text(t, "tags") for t in article.tags if isinstance(t, str))
        object.__setattr__(article, "tags", tags)


_KNOWN = {*_TEXT_FIELDS, "tags", "published_at", "updated_at", "image", "id"}
_KNOWN |= {"publish_at", "embargo_until", "priority"}


def _from_dict(data: Any) -> Article:
    if not isinstance(data, Mapping):
        raise ArticleError(f"expected an object with 'url' and 'title', got {_type(data)}")
    unknown = sorted(str(k) for k in data if k not in _KNOWN)
    if unknown:
        raise ArticleError(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
    for key in ("url", "title"):
        if data.get(key) in (None, ""):
            raise ArticleError(f"missing {key}")
    text = {k: _text(data.get(k), k) for k in _TEXT_FIELDS}
    guid = text["guid"] or (_text(data.get("id"), "id") if data.get("id") is not None else None)
    return Article(
        url=str(text["url"]).strip(),
        title=_squash(str(text["title"])),
        teaser=_blank_to_none(text["teaser"]),
        body=_blank_to_none(text["body"]),
        section=_blank_to_none(text["section"]),
        tags=_tags(data.get("tags")),
        language=_language(text["language"]),
        author=_blank_to_none(text["author"]),
        published_at=_when(data.get("published_at"), "published_at"),
        updated_at=_when(data.get("updated_at"), "updated_at"),
        image=_image(data.get("image")),
        guid=_blank_to_none(guid),
        publish_at=_when(data.get("publish_at"), "publish_at", naive_ok=True),
        embargo_until=_when(data.get("embargo_until"), "embargo_until", naive_ok=True),
        priority=_priority(data.get("priority")),
    )


def _priority(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in ("normal", "breaking"):
        raise ArticleError(f"field 'priority' must be 'normal' or 'breaking', got {value!r}")
    return value.strip().lower()


def _type(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ArticleError(f"field {key!r} must be a string, got {_type(value)}")
    if key in ("url", "image.url"):
        return str(value)  # a link is refused, not changed, when it holds a control character
    return clean_text(str(value), key)  # before squashing: a removed character leaves no gap


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _squash(value: str) -> str:
    return " ".join(value.split())


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, list | tuple):
        raise ArticleError(f"field 'tags' must be a list of strings, got {_type(value)}")
    out: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise ArticleError(f"field 'tags' must be a list of strings, found {_type(tag)}")
        tag = _squash(clean_text(tag, "tags"))
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


def _language(value: str | None) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    primary = value.replace("_", "-").split("-")[0].lower()
    if not primary.isalpha() or not 2 <= len(primary) <= 3:
        raise ArticleError(
            f"field 'language' must be a language code like 'de' or 'en-GB', got {value!r}"
        )
    return primary


def _when(value: Any, key: str, naive_ok: bool = False) -> datetime | None:
    """An aware datetime (naive read as UTC), or with `naive_ok` a naive one kept naive: a
    schedule's wall time, read in the newsroom time zone when it is planned."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo or naive_ok else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=None if naive_ok else UTC)
    if not isinstance(value, str):
        raise ArticleError(f"field {key!r} must be an ISO-8601 date, got {_type(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ArticleError(f"field {key!r} is not an ISO-8601 date: {value!r}") from None
    return parsed if parsed.tzinfo or naive_ok else parsed.replace(tzinfo=UTC)


def _image(value: Any) -> Image | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise ArticleError(f"field 'image' must be an object or a URL, got {_type(value)}")
    unknown = sorted(str(k) for k in value if k not in ("url", "alt", "credit"))
    if unknown:
        raise ArticleError(f"unknown field 'image.{unknown[0]}' (known: url, alt, credit)")
    if not value.get("url"):
        raise ArticleError("missing image.url")
    parts = {k: _text(value.get(k), f"image.{k}") or "" for k in ("url", "alt", "credit")}
    return Image(
        url=parts["url"].strip(), alt=_squash(parts["alt"]), credit=_squash(parts["credit"])
    )


def check_url(url: Any, key: str) -> None:
    """Raise ArticleError unless `url` is an absolute http(s) URL with a host."""
    if not isinstance(url, str) or not url.strip():
        raise ArticleError(f"missing {key}")
    _check_text_url(url, key)


@lru_cache(maxsize=4096)
def _check_text_url(url: str, key: str) -> None:
    # Rendering copies the article once per channel: a valid URL is checked once (errors,
    # being raised, are never cached).
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises for "host:abc" and out-of-range ports)
    except ValueError as exc:
        raise ArticleError(f"field {key!r} is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ArticleError(f"field {key!r} must be an absolute http(s) URL, got {url!r}")
    if any(c.isspace() for c in url.strip()):
        raise ArticleError(f"field {key!r} contains whitespace: {url!r}")


def is_tracking_param(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=4096)
def _article_id(url: str) -> str:
    # Rendering asks once per channel: the canonical URL is hashed once per article.
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """Normalise a URL so that the same story always gives the same string (asked several
    times per article: identity keys, id, links; computed once)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))
