"""Link hygiene: a posted URL is the article's URL without click ids, plus the channel's utm.

    policy = LinkPolicy(strip=frozenset({"sc_cid"}), keep=frozenset({"ocid"}))  # [links]
    posted = posted_link(article.url, channel.utm, policy)
    shown = display_link(posted)        # "news.de/politik/wladi…" (Bluesky's text)

A posted link keeps the story's own query parameters byte for byte and in their order (a CMS
may need `?id=` or `?page=`), drops every tracking parameter (the built-in list, plus
`[links] strip`, minus `[links] keep`) and the `#fragment`, lower-cases scheme and host, drops
a default port, and then gets the channel's `utm_*` set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# Tracking parameters left out of an article's identity (`Article.article_id`). Frozen: a
# longer list would give stored stories new ids, and a story seen again would be posted again.
IDENTITY_STRIP = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "wt_mc", "wt_zmc",
        "wtmc", "ocid", "cmpid", "ref_src", "xtor", "at_medium", "at_campaign", "_ga",
    }
)  # fmt: skip
IDENTITY_PREFIXES = ("utm_", "at_", "pk_", "mtm_")
# Posted links lose more: every click id and campaign parameter we know of (never one a CMS
# could use for the story itself, such as `id`, `cid` or `page`).
DEFAULT_STRIP = IDENTITY_STRIP | {
    "gclsrc", "gbraid", "wbraid", "twclid", "ttclid", "li_fat_id", "yclid", "igsh", "_gl",
    "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id", "s_cid",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "ref_url", "ref",
}  # fmt: skip
# Whole tracking families: Google, AT Internet, Piwik/Matomo, Webtrekk/Mapp.
DEFAULT_STRIP_PREFIXES = (*IDENTITY_PREFIXES, "wt_")
DISPLAY_PATH_CHARS = 14  # Bluesky's app shows host + the first ~14 characters of the path


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """Which query parameters a posted link loses: the built-ins plus `strip`, minus `keep`."""

    strip: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()

    def strips(self, name: str) -> bool:
        """Whether the query parameter `name` is tracking to be removed from a posted link."""
        low = name.lower()
        if low in self.keep:
            return False
        return low in self.strip or is_tracking_param(low)


DEFAULT_POLICY = LinkPolicy()


def is_tracking_param(name: str) -> bool:
    """Built-in rule: a click id or campaign parameter (`fbclid`, `utm_source`, `wt_mc`, ...)."""
    low = name.lower()
    return low in DEFAULT_STRIP or low.startswith(DEFAULT_STRIP_PREFIXES)


def _param_name(pair: str) -> str:
    return unquote(pair.split("=", 1)[0])


@lru_cache(maxsize=4096)
def clean_url(url: str, policy: LinkPolicy = DEFAULT_POLICY) -> str:
    """`url` without tracking parameters and fragment; scheme and host lower-case."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    if parts.username or parts.password:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    kept = [p for p in parts.query.split("&") if p and not policy.strips(_param_name(p))]
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


@lru_cache(maxsize=4096)
def _with_utm(url: str, params: tuple[tuple[str, str], ...]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    kept = [
        p for p in parts.query.split("&") if p and not _param_name(p).lower().startswith("utm_")
    ]
    kept.append(_utm_query(params))
    return urlunsplit(parts._replace(query="&".join(kept)))


@lru_cache(maxsize=256)
def _utm_query(params: tuple[tuple[str, str], ...]) -> str:
    """A channel's utm parameters as a query string (the same for every article it posts)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def utm_items(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """`{"source": "x"}` -> `(("utm_source", "x"),)`; empty values are left out."""
    return tuple(
        (k if k.startswith("utm_") else f"utm_{k}", str(v)) for k, v in params.items() if v != ""
    )


def add_utm(url: str, params: Mapping[str, Any] | None = None, **more: Any) -> str:
    """`url` with utm parameters set (existing utm_* replaced, fragment and other query kept)."""
    return _with_utm(url, utm_items({**(params or {}), **more}))


def posted_link(url: str, utm: Mapping[str, Any], policy: LinkPolicy = DEFAULT_POLICY) -> str:
    """The link a post carries: the cleaned article URL plus the channel's utm parameters."""
    return _with_utm(clean_url(url, policy), utm_items(utm))


@lru_cache(maxsize=4096)
def display_link(url: str) -> str:
    """The short form Bluesky's app shows for a link: `news.de/politik/wladi…`.

    Host without `www.`, then the path; a longer path (query included) is cut with "…".
    The query (utm) is never shown: the link facet carries the full URL.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = "" if parts.path in ("", "/") else unquote(parts.path)
    if len(path) > DISPLAY_PATH_CHARS + 1:
        return host + path[:DISPLAY_PATH_CHARS] + "…"
    return host + path
