"""How a lookup recognises our link in what a platform returns: normalised URL comparison.

Platforms never give the link back the way we sent it: Mastodon writes it into HTML as
`<a href="…&amp;…">` with the visible text split into `<span>`s, X hides it behind t.co and
reports `expanded_url`, Bluesky keeps it in a link facet and `embed.external.uri` while the text
may show a shortened display link. Lookups therefore compare URLs, never text fragments, after
`normal_url()` has removed the differences that do not change where a link points.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Characters that mean the same escaped or not in a path: kept literal after unquoting.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_DEFAULT_PORTS = (("http", 80), ("https", 443))
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"]+")
SHIM_HOSTS = frozenset({"l.facebook.com", "lm.facebook.com", "l.threads.net", "l.threads.com"})


def normal_url(url: str) -> str:
    """`url` in one spelling: lower-case scheme and host (IDNA), no default port, `/` for an
    empty path, one percent-encoding, query parameters re-encoded in their order. Query order
    and tracking parameters are kept: they are part of the link as posted."""
    raw = url.strip()
    if "://" not in raw and not raw.startswith("//"):
        raw = "http://" + raw  # X reports some expanded URLs without a scheme
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = _host(parts.hostname or "")
    netloc = host if port is None or (scheme, port) in _DEFAULT_PORTS else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(pairs, quote_via=quote, safe="-._~") if pairs else parts.query
    fragment = quote(unquote(parts.fragment), safe=_PATH_SAFE + "?")
    return urlunsplit((scheme, netloc, path, query, fragment))


def same_url(a: str | None, b: str | None) -> bool:
    """Whether two links point at the same address (None and "" never match)."""
    return bool(a) and bool(b) and normal_url(str(a)) == normal_url(str(b))


def any_same(wanted: str | None, found: Iterable[object]) -> bool:
    """Whether any of the links `found` in a post is `wanted` (non-strings are skipped)."""
    if not wanted:
        return False
    target = normal_url(wanted)
    return any(isinstance(url, str) and url and normal_url(url) == target for url in found)


def unshim(url: str) -> str:
    """The address behind Meta's link shim (`https://l.facebook.com/l.php?u=…&h=…`)."""
    parts = urlsplit(url)
    if parts.hostname in SHIM_HOSTS and parts.path == "/l.php":
        return (parse_qs(parts.query).get("u") or [url])[0]
    return url


def html_links(content: str) -> list[str]:
    """The `href` of every `<a>` in an HTML fragment, entities decoded (`&amp;` -> `&`)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    return [str(a.get("href")) for a in soup.find_all("a") if a.get("href")]


def html_text(content: str) -> str:
    """The visible text of Mastodon's status HTML: paragraphs as blank lines, `<br>` as line
    breaks, links as their full text (Mastodon hides part of it in `invisible` spans)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    paragraphs = soup.find_all("p")
    if not paragraphs:
        return str(soup.get_text())
    return "\n\n".join(str(p.get_text()) for p in paragraphs)


def same_text(a: str, b: str) -> bool:
    """Equal modulo whitespace (platforms trim and fold line ends)."""
    return " ".join(a.split()) == " ".join(b.split())


def _host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host
