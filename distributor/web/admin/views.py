"""Plain data for the templates: log filters from the query string, rows, template filters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from distributor.store.models import Delivery, Filters, State
from distributor.web.admin.i18n import N_, Text

if TYPE_CHECKING:
    from distributor.article import Article
    from distributor.config import Settings
    from distributor.service import PreviewItem
    from distributor.store.store import Store

PAGE_SIZE = 50
FILTER_KEYS = ("state", "channel", "platform", "article", "since", "until", "q")
# What a person can do from each state (the action functions re-check; this only hides buttons).
NEEDS_FORCE = (State.UNKNOWN, State.RETRY_WAIT, State.SENDING)
RETRYABLE = (State.FAILED, *NEEDS_FORCE)
CANCELLABLE = (
    State.PLANNED,
    State.AWAITING_REVIEW,
    State.QUEUED,
    State.CLAIMED,
    State.RETRY_WAIT,
    State.UNKNOWN,
    State.FAILED,
)

RETRACTABLE = (State.SENT, *CANCELLABLE)
# Fixed messages after a successful action (the redirect names one; free text never travels).
DONE = {
    "approved": N_("Approved: the post is queued."),
    "rescheduled": N_("Rescheduled."),
    "held": N_("Held: it will not be sent until released."),
    "released": N_("Released."),
    "retried": N_("Queued again."),
    "cancelled": N_("Cancelled."),
    "retracted": N_("Retract finished: see each delivery's outcome below."),
    "paused": N_("Paused: workers claim nothing until resumed."),
    "resumed": N_("Resumed: workers claim again."),
    "composed": N_("Published: the posts are queued; each channel's link appears here once sent."),
    "composed_at": N_("Scheduled: the posts go at the chosen time; their links appear here then."),
}


class BadFilter(ValueError):
    """A filter value that cannot be used (shown above the log, never a 500)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text  # translated on the page


@dataclass(frozen=True, slots=True)
class LogQuery:
    """The post log's filters as given in the URL, and as store Filters."""

    values: Mapping[str, str]
    filters: Filters
    after: str | None

    def link(self, **changes: str | None) -> str:
        """The query string with `changes` applied (None removes a key)."""
        merged = {**self.values, **changes}
        return "?" + urlencode({k: v for k, v in merged.items() if v})


def log_query(params: Mapping[str, str], store: Store, tz: str = "UTC") -> LogQuery:
    """Filters from the query string (times without an offset are in `tz`, the newsroom's);
    BadFilter naming the field for anything unusable."""
    from distributor.actions import ActionError, find_article

    values = {k: params.get(k, "").strip()[:500] for k in FILTER_KEYS}
    state = values["state"]
    if state and state not in {s.value for s in State}:
        raise BadFilter(Text("state: no such state %(state)r", state=state))
    article_id = None
    if values["article"]:
        try:
            article_id = find_article(store, values["article"])
        except ActionError as exc:
            raise BadFilter(Text("article: %(problem)s", problem=exc)) from None
    filters = Filters(
        states=(State(state),) if state else (),
        channel=values["channel"] or None,
        platform=values["platform"] or None,
        article_id=article_id,
        since=_when(values["since"], Text("Since"), tz),
        until=_when(values["until"], Text("Until"), tz, end=True),
        search=values["q"] or None,
    )
    return LogQuery(values, filters, params.get("after") or None)


def _when(text: str, field: Text, tz: str, *, end: bool = False) -> datetime | None:
    """`2026-11-25`, `2026-11-25T10:00` (in `tz` unless it has an offset) or an age like `2h`,
    `3d`; `end` makes a bare date inclusive (until the end of that day)."""
    if not text:
        return None
    from distributor.config import parse_duration
    from distributor.errors import ConfigError

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
        except (ConfigError, OverflowError):  # `1e308`: an age past year 1
            raise BadFilter(
                Text(
                    "%(field)s: not a date/time or age: %(text)r "
                    "(e.g. 2026-11-25, 2026-11-25T10:00, 2h)",
                    field=field,
                    text=text,
                )
            ) from None
    if end and len(text) == 10 and when.year < 9999:  # 9999-12-31 + 1 day overflows
        when += timedelta(days=1)  # on the wall clock: a DST day has 23 or 25 hours
    if when.tzinfo is None:
        from distributor.schedule.rules import zone

        when = when.replace(tzinfo=zone(tz))
    return when


def filter_choices(settings: Settings) -> dict[str, Any]:
    """What the filter form offers: channels, platforms, states (value, word)."""
    from distributor.web.admin.words import STATES

    return {
        "channels": [c.name for c in settings.channels],
        "platforms": sorted({c.platform for c in settings.channels}),
        "states": [(s.value, STATES[s].word) for s in State],
    }


def rows(store: Store, page: list[Delivery]) -> list[dict[str, Any]]:
    """One dict per delivery with its article's title (one query for the page's titles)."""
    titles = store.titles({d.article_id for d in page})
    return [{"d": d, "title": titles.get(d.article_id, "")} for d in page]


def counts(d: Delivery) -> str:
    """`length/limit` of the draft (limit 0 means the platform default was not recorded)."""
    length, limit = d.draft.get("length"), d.draft.get("limit")
    return f"{length}/{limit}" if limit else f"{length}"


def preview_items(source: str, settings: Settings) -> list[PreviewItem]:
    """Every channel's post for a pasted http(s) URL or article JSON (never a local path)."""
    from distributor.errors import ArticleError
    from distributor.service import preview
    from distributor.sources.files import parse_json

    source = source.strip()
    if source[:1] in ("{", "["):
        return preview(parse_json(source, "pasted JSON"), config=settings)
    if source.lower().startswith(("http://", "https://")) and "\n" not in source:
        return preview(_fetch(source, settings), config=settings)
    raise ArticleError("paste an article's http(s) URL or its JSON")


def _fetch(url: str, settings: Settings) -> list[Article]:
    """The article page at `url`, fetched under the `[watch]` host rules (no private hosts
    unless allowed there: the server must not become a way into the internal network)."""
    from distributor.sources import parse_articles
    from distributor.sources.files import fetch_url

    return parse_articles(fetch_url(url, rules=settings.watch.rules()))


def shown(draft: Mapping[str, Any]) -> str:
    """The post text as readers see it: Telegram's HTML as its visible text (no `&amp;`)."""
    text = str(draft.get("text") or "")
    if draft.get("format") != "html":
        return text
    from distributor.telegram_html import TelegramHTMLError, to_plain

    try:
        return to_plain(text)
    except TelegramHTMLError:  # stored before validation existed: show it as it is
        return text


FILTERS = {"counts": counts, "shown": shown}
