"""Compose: a post started by a person at the desk (`/admin/compose`), not by a feed or the CMS.

An article comes from a pasted URL (fetched under the `[watch]` host rules, like the webhook's
`{"url": ...}`), from a feed item the store has seen, or from fields filled in by hand. Every
channel's post is rendered as `publish` renders it; the editor may change a channel's text,
which is then measured as the platform counts and refused when it does not fit (the same rule
as approve-with-edit, `actions.edited_draft`). Publishing plans exactly the texts shown, with
the person as the actor of every planned delivery, at once or at a time (`publish_at`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor import limits
from distributor.article import Article
from distributor.errors import N_, ArticleError, DistributorError, Told
from distributor.errors import Say as Say  # compose.Say: the desk's messages

if TYPE_CHECKING:
    from distributor.config import Channel, Settings
    from distributor.planning import ArticlePlan
    from distributor.platforms.base import Draft
    from distributor.service import PreviewItem
    from distributor.store.store import Store

FIELDS = ("url", "title", "teaser", "image", "image_alt", "more")
# What a loaded page or feed item says beyond the visible fields, kept through the form.
MORE = (
    "section",
    "tags",
    "language",
    "author",
    "guid",
    "published_at",
    "updated_at",
    "publish_at",
    "embargo_until",
    "priority",
)
RECENT = 15  # feed items offered on the compose page


class ComposeError(Told):
    """Compose input that cannot be used (one line naming the field or channel)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Post:
    """One channel's post as the desk shows it: the text to send, its count, any problem."""

    channel: Channel
    draft: Draft | None  # None: not routed here, or the template failed (see `problem`)
    text: str = ""
    length: int = 0
    limit: int = 0
    problem: Say = Say()  # why it cannot be sent as it stands (skipped, template error, too long)
    edited: bool = False
    chosen: bool = True

    @property
    def over(self) -> bool:
        return self.limit > 0 and self.length > self.limit

    @property
    def counts(self) -> str:
        return f"{self.length}/{self.limit}"


def article_from(fields: Mapping[str, str]) -> Article:
    """The article the form describes; ComposeError naming the field for a bad one.

    `more` carries, as JSON, what a loaded page or feed item said beyond the visible fields
    (section, tags, language, guid, embargo...), so routing, templates and the embargo treat
    the article as they would have from its source."""
    url, title = fields.get("url", "").strip(), fields.get("title", "").strip()
    if not url:
        raise ComposeError(N_("Link: paste the article's web address (http or https)."))
    if not title:
        raise ComposeError(N_("Title: give the article a title."))
    data: dict[str, Any] = {**_more(fields.get("more", "")), "url": url, "title": title}
    data["teaser"] = fields.get("teaser", "").strip()
    image_url = fields.get("image", "").strip()
    credit = data.pop("image_credit", "")
    if image_url:
        data["image"] = {"url": image_url, "alt": fields.get("image_alt", "").strip()}
        data["image"]["credit"] = credit
    try:
        return Article.from_dict(data, "article")
    except ArticleError as exc:
        raise ComposeError(str(exc)) from None


def _more(text: str) -> dict[str, Any]:
    from distributor.untrusted import loads

    if not text.strip():
        return {}
    try:
        data = loads(text)
    except ValueError:
        data = None
    if not isinstance(data, Mapping) or not set(data) <= {*MORE, "image_credit"}:
        raise ComposeError(N_("The form was changed outside this page: reload it."))
    return dict(data)


def fields_of(article: Article) -> dict[str, str]:
    """The form fields for `article` (what the editor sees and may change, and `more`)."""
    import json

    data = article.to_dict()
    more = {k: data[k] for k in MORE if data.get(k) not in (None, "", [])}
    if article.image is not None and article.image.credit:
        more["image_credit"] = article.image.credit
    return {
        "url": article.url,
        "title": article.title,
        "teaser": article.teaser or "",
        "image": article.image.url if article.image else "",
        "image_alt": article.image.alt if article.image else "",
        "more": json.dumps(more, ensure_ascii=False) if more else "",
    }


def load_url(url: str, settings: Settings) -> Article:
    """The article at `url`, fetched through the fetch guard under the `[watch]` host rules
    (no private or loopback address unless `allow_private`): the server must not become a
    way into the newsroom's network. ArticleError (one line) when refused or unreadable."""
    from distributor.sources import parse_articles
    from distributor.sources.files import fetch_url

    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise ComposeError(N_("Link: paste the article's web address (http or https)."))
    found = parse_articles(fetch_url(url, rules=settings.watch.rules()))
    if not found:
        raise ComposeError(N_("%(url)s: no article found on this page."), url=url)
    return found[0]


def recent_items(store: Store, limit: int = RECENT) -> list[dict[str, Any]]:
    """The newest feed items the store has seen (`distributor watch`), newest first."""
    return store.recent_articles("watch:", limit)


def picked(store: Store, article_id: str) -> Article:
    """A stored article (a recent feed item) as an Article."""
    data = store.article_data(article_id)
    if data is None:
        raise ComposeError(N_("This feed item is no longer in the post log."))
    return Article.from_dict(data, "feed item")


def posts(
    article: Article,
    settings: Settings,
    texts: Mapping[str, str] | None = None,
    chosen: Collection[str] | None = None,
    only: Sequence[str] = (),
) -> list[Post]:
    """Every channel's post for `article` (`only` these channels, when given); `texts` are
    the editor's versions (kept and measured when they differ from the rendered one),
    `chosen` the channels ticked (None: all that can send)."""
    from distributor.service import preview

    return [
        _post(item, (texts or {}).get(item.channel.name), chosen)
        for item in preview(article, config=settings, channels=only)
    ]


def _post(item: PreviewItem, text: str | None, chosen: Collection[str] | None) -> Post:
    channel, draft = item.channel, item.draft
    if draft is None:
        why = Say(N_("Not for this channel: %(reason)s"), {"reason": item.skipped or ""})
        return Post(
            channel, None, problem=why if item.skipped else Say(str(item.error)), chosen=False
        )
    pick = chosen is None or channel.name in chosen
    text = _clean(text) if text is not None else draft.text
    if text == draft.text:
        return Post(channel, draft, draft.text, draft.length, draft.limit, chosen=pick)
    try:
        m = measure(channel, text, draft.limit)
    except ComposeError as exc:
        return Post(channel, draft, text, 0, draft.limit, exc.say, True, pick)
    problem = Say() if m.fits else too_long(channel, m)
    return Post(channel, draft, text, m.length, m.limit, problem, True, pick)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()  # browsers send a textarea's breaks as CRLF


def measure(channel: Channel, text: str, limit: int) -> limits.Measure:
    """`text` counted as `channel`'s platform counts it; ComposeError for an empty text or
    one the platform would refuse (Telegram HTML it cannot parse)."""
    if not text.strip():
        raise ComposeError(N_("%(channel)s: the text is empty."), channel=channel.name)
    try:
        return limits.measure(channel.platform, _clean(text), limit or None)
    except DistributorError as exc:
        raise ComposeError(f"{channel.name}: {exc}") from None


def too_long(channel: Channel, m: limits.Measure) -> Say:
    over = f"{m.length}/{m.limit}"
    if m.byte_limit is not None and (m.byte_length or 0) > m.byte_limit:
        over += f" ({m.byte_length}/{m.byte_limit} bytes)"
    text = N_("%(channel)s: the text is too long for %(platform)s: %(counts)s")
    return Say(text, {"channel": channel.name, "platform": channel.platform, "counts": over})


def limit_of(channel: Channel, has_image: bool) -> int:
    """The limit a draft for `channel` gets (the caption limit when the post has an image)."""
    return limits.limit_for(channel.platform, caption=has_image, override=channel.limit)


def publish(
    store: Store,
    settings: Settings,
    article: Article,
    chosen_posts: Sequence[Post],
    actor: str,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
) -> ArticlePlan:
    """Plan the chosen posts with exactly their texts, `actor` recorded as who planned them;
    ComposeError (nothing planned) when none is chosen or one of them cannot be sent."""
    from distributor.planning import plan_previews
    from distributor.service import PreviewItem

    chosen = [p for p in chosen_posts if p.chosen]
    if not chosen:
        raise ComposeError(N_("Tick at least one channel to publish to."))
    problems = [p.problem for p in chosen if p.problem or p.draft is None]
    if problems:
        raise ComposeError(problems[0])
    items = [PreviewItem(article, p.channel, _final(p)) for p in chosen]
    (plan,) = plan_previews(items, store, source=actor, now=now, tz=settings.timezone, at=at)
    if plan.error:
        raise ComposeError(plan.error)
    if not plan.created:
        known = ", ".join(plan.known_channels) or "no channel"
        raise ComposeError(
            N_("Nothing new to publish: this article was planned before on %(channels)s."),
            channels=known,
        )
    edited = [p.channel.name for p in chosen if p.edited]
    detail = ", ".join(d.channel for d in plan.created)
    if edited:
        detail += f" (edited: {', '.join(edited)})"
    store.record_event(actor, "composed", article_id=plan.article_id, detail=detail, now=now)
    return plan


def _final(post: Post) -> Draft:
    assert post.draft is not None
    if not post.edited:
        return post.draft
    return replace(post.draft, text=post.text, length=post.length)
