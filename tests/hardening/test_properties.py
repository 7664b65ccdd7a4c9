"""Properties over any article text, tags and URL (hypothesis; CI derandomizes, `make fuzz` runs
many more examples): every platform's post fits with the URL intact and nothing cut mid-word or
mid-hashtag, or the render fails with TemplateError; Bluesky facets slice exactly their link or
tag; identity survives utm/fragment/case changes."""

from __future__ import annotations

import html
import os
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from platform_helpers import PLATFORMS, link_shown

from distributor import limits
from distributor.article import Article, canonical_url
from distributor.config import Channel
from distributor.errors import ArticleError, TemplateError
from distributor.platform import spec
from distributor.platforms.bluesky_facets import facets
from distributor.render import hashtag_list, render

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
ELLIPSIS = "…"
# words: German, CJK, emoji, punctuation, HTML-ish characters; no "#" (hashtags come from tags)
_CHARS = st.sampled_from("aäöüßezAÄÖÜ0123456789.,;:!?-–()\"'&<>/%日本😀é")
WORD = st.text(_CHARS, min_size=1, max_size=14)
TEXT = st.lists(WORD, min_size=1, max_size=90).map(" ".join)
TAG = st.text(st.sampled_from(list("abcdefäöüßXYZ019 -_")), min_size=1, max_size=30)
SEGMENT = st.text(st.sampled_from(list("abcxyz0189-_~.")), min_size=1, max_size=40)
URL = st.builds(
    lambda host, segs, q: f"https://{host}/" + "/".join(segs) + (f"?id={q}" if q else ""),
    st.sampled_from(["news.example", "www.zeitung.example.de", "a.example"]),
    st.lists(SEGMENT, min_size=1, max_size=6),
    st.one_of(st.none(), st.integers(0, 10**9)),
)
COMMON = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _tokens(text: str) -> list[str]:
    return text.split()


def _assert_nothing_cut(text: str, article: Article, platform: str, shown: str = "") -> None:
    is_html = spec(platform).text_format == "html"
    visible = html.unescape(re.sub(r"<[^>]+>", " ", text)) if is_html else text
    teaser_words = set(_tokens(article.teaser or ""))
    stripped = {w.rstrip(",;:–—-‒ ") for w in teaser_words}
    for token in _tokens(visible):
        if token.endswith(ELLIPSIS) and token not in (ELLIPSIS, shown):  # shown: Bluesky link
            word = token[: -len(ELLIPSIS)]
            assert word in teaser_words or word in stripped, f"cut word {token!r} in {text!r}"
    allowed_tags = set(hashtag_list(article.tags))
    for token in _tokens(visible):
        if token.startswith("#") and len(token) > 1:
            assert token in allowed_tags, f"cut or foreign hashtag {token!r} in {text!r}"


@COMMON
@given(title=TEXT, teaser=st.one_of(st.none(), TEXT), tags=st.lists(TAG, max_size=8), url=URL)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_post_fits_with_url_intact_or_fails_cleanly(
    platform: str, title: str, teaser: str | None, tags: list[str], url: str
) -> None:
    try:
        article = Article(url=url, title=title, teaser=teaser, tags=tuple(tags), language="de")
    except ArticleError:
        assume(False)
        return
    channel = Channel(name=f"{platform}-main", platform=platform)
    try:
        draft = render(article, channel)
    except TemplateError as exc:
        message = str(exc)
        assert message.startswith(f"channel '{platform}-main': ") and "\n" not in message
        return
    assert draft.length <= draft.limit, (draft.length, draft.limit, draft.text)
    if draft.format != "html":
        assert limits.length(platform, draft.text) == draft.length
    intact = link_shown(platform, draft.text, draft.link, draft.link_text)
    assert intact, f"link {draft.link_text or draft.link!r} not intact in {draft.text!r}"
    _assert_nothing_cut(draft.text, article, platform, draft.link_text)


LINKISH = st.one_of(
    URL,
    st.builds(lambda s: f"{s}.com/x", SEGMENT.filter(lambda s: s[0].isalpha())),
    st.builds(lambda t: f"#{t}", TAG.map(lambda t: t.replace(" ", ""))),
    WORD,
)


@COMMON
@given(st.lists(LINKISH, min_size=1, max_size=30), st.sampled_from([" ", "\n", " (", ", "]))
def test_bluesky_facets_slice_exactly_their_link_or_tag(parts: list[str], sep: str) -> None:
    text = sep.join(parts)
    data = text.encode("utf-8")
    previous_end = 0
    for facet in facets(text):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        assert previous_end <= start < end <= len(data)
        previous_end = end
        piece = data[start:end].decode("utf-8")  # never splits a character
        [feature] = facet["features"]
        if feature["$type"].endswith("#link"):
            uri = feature["uri"]
            assert uri == piece or uri == f"https://{piece}", (uri, piece)
        else:
            assert piece in (f"#{feature['tag']}", f"＃{feature['tag']}"), (feature, piece)


@COMMON
@given(url=URL)
def test_rendered_bluesky_link_has_a_facet_on_exactly_the_link(url: str) -> None:
    article = Article(url=url, title="Ein Titel", teaser="Ein Satz.", tags=("Politik",))
    draft = render(article, Channel(name="bsky", platform="bluesky"))
    found = facets(draft.text, (draft.link,), {draft.link_text: draft.link})
    links = [f for f in found if f["features"][0]["$type"].endswith("#link")]
    data = draft.text.encode("utf-8")
    sliced = {data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in links}
    assert (draft.link_text or draft.link) in sliced
    assert any(f["features"][0]["uri"] == draft.link for f in links)


@COMMON
@given(
    url=URL,
    utm=st.dictionaries(
        st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "fbclid", "UTM_Term"]),
        SEGMENT,
        max_size=4,
    ),
    fragment=st.one_of(st.just(""), SEGMENT.map(lambda s: "#" + s)),
    upper_scheme=st.booleans(),
    upper_host=st.booleans(),
    slash=st.booleans(),
)
def test_identity_is_stable_under_tracking_fragment_and_case(
    url: str,
    utm: dict[str, str],
    fragment: str,
    upper_scheme: bool,
    upper_host: bool,
    slash: bool,
) -> None:
    scheme, rest = url.split("://", 1)
    host, path = rest.split("/", 1)
    base, _, query = path.partition("?")
    if slash and not base.endswith("/"):
        base += "/"
    params = [query] if query else []
    params += [f"{k}={v}" for k, v in utm.items()]
    variant = (
        f"{scheme.upper() if upper_scheme else scheme}://"
        f"{host.upper() if upper_host else host}/{base}"
        + ("?" + "&".join(params) if params else "")
        + fragment
    )
    assert canonical_url(variant) == canonical_url(url)
    assert Article(url=variant, title="T").article_id == Article(url=url, title="T").article_id
