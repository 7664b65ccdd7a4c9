"""HTML pages -> an Article (placeholder until the feed parser lands)."""

from __future__ import annotations

from distributor.article import Article
from distributor.errors import ArticleError


def parse_html(
    data: bytes | str, where: str, url: str | None = None, *, content_type: str = ""
) -> Article:
    raise ArticleError(f"{where}: pages are not supported yet")
