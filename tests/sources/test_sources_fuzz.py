"""Whatever the bytes, a source gives articles or one ArticleError line, never a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distributor.errors import ArticleError
from distributor.sources import parse_articles
from distributor.sources.files import Raw

PREFIXES = [
    b"",
    b"{",
    b"[",
    b'{"url": "https://e.org/a", "title": ',
    b"url: https://e.org/a\ntitle: ",
    b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>',
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>',
    b'<!doctype html><html><head><meta property="og:title" content="',
    b'<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": ',
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(PREFIXES),
    tail=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
    suffix=st.sampled_from([b"", b"</title><link>https://e.org/x</link></item></channel></rss>"]),
)
def test_any_input_is_articles_or_one_clean_error(
    prefix: bytes, tail: bytes, suffix: bytes
) -> None:
    try:
        articles = parse_articles(Raw(prefix + tail + suffix, "fuzz.in"))
    except ArticleError as exc:
        message = str(exc)
        assert message.startswith("fuzz.in: ") and "\n" not in message, message
    else:
        assert articles and all(a.url.startswith(("http://", "https://")) for a in articles)
