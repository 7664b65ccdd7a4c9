"""RSS 2.0, Atom and RDF feeds -> Articles (placeholder until the feed parser lands)."""

from __future__ import annotations

from distributor.article import Article
from distributor.errors import ArticleError


def parse_feed(
    data: bytes, where: str, *, base_url: str | None = None, content_type: str = ""
) -> list[Article]:
    raise ArticleError(f"{where}: feeds are not supported yet")
