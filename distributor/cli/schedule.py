"""`distributor reschedule/hold/release/scheduled`: change and see when posts go.

A target is a delivery ID or an ARTICLE (id, URL or guid: all its waiting deliveries). Times
without an offset are the newsroom's wall clock (`[distributor] timezone`). Exit codes: 0 done;
2 bad input, an unknown target, a time before the embargo or a delivery already in flight or
final; 3 the store failed. See docs/scheduling.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from distributor.cli.common import (
    actor_name,
    actor_option,
    console,
    open_store_for,
    print_json,
    settings,
    store_options,
)

if TYPE_CHECKING:
    from datetime import datetime

    from distributor.schedule import desk
    from distributor.store.models import Delivery


def at_option(command: Any) -> Any:
    return click.option(
        "--at",
        "at",
        metavar="TIME",
        help='When to post: "2026-12-03 07:30" (newsroom time zone) or ISO 8601 with offset.',
    )(command)


def parse_at_option(ctx: click.Context, text: str) -> datetime:
    """`--at` as aware UTC; ConfigError (exit 2) naming the option."""
    from distributor.errors import ConfigError
    from distributor.schedule.rules import parse_at

    try:
        return parse_at(text, settings(ctx).timezone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _say(verb: str, done: list[Delivery], as_json: bool) -> None:
    from distributor.review import goes_at, iso, row

    if as_json:
        print_json([row(d) for d in done])
        return
    for d in done:
        when = iso(goes_at(d)) or "as soon as it is due"
        held = " (held)" if d.held else ""
        click.echo(f"delivery {d.id} ({d.channel}): {verb}, goes at {when}{held}")


def _json_option(command: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print the deliveries as JSON.")(
        command
    )


@click.command()
@click.argument("target", metavar="ID|ARTICLE")
@at_option
@_json_option
@actor_option
@store_options
@click.pass_context
def reschedule(
    ctx: click.Context,
    target: str,
    at: str | None,
    as_json: bool,
    actor: str | None,
    config: str | None,
    database: str | None,
) -> None:
    """Move a waiting delivery (or every waiting delivery of an article) to --at TIME.

    Never before the article's embargo; a time in a channel's quiet hours moves to their end
    (breaking news excepted)."""
    from distributor.errors import ConfigError
    from distributor.schedule import desk

    if not at:
        raise ConfigError('reschedule: give --at TIME, e.g. --at "2026-12-03 07:30"')
    when = parse_at_option(ctx, at)
    who = actor_name(actor)
    with open_store_for(ctx, config, database) as store:
        done = desk.reschedule(store, settings(ctx), target, when, who)
    _say("rescheduled", done, as_json)


def _toggle(name: str, verb: str, doc: str) -> Any:
    """`hold` / `release`: the same command around `desk.hold` / `desk.release`."""

    @click.command(name=name, help=doc)
    @click.argument("target", metavar="ID|ARTICLE")
    @_json_option
    @actor_option
    @store_options
    @click.pass_context
    def command(
        ctx: click.Context,
        target: str,
        as_json: bool,
        actor: str | None,
        config: str | None,
        database: str | None,
    ) -> None:
        from distributor.schedule import desk

        who = actor_name(actor)
        with open_store_for(ctx, config, database) as store:
            done = getattr(desk, name)(store, target, who)
        _say(verb, done, as_json)

    return command


hold = _toggle(
    "hold",
    "held",
    "Keep a waiting delivery (or all of an article's) from being sent until `release`.",
)
release = _toggle(
    "release",
    "released",
    "Let held deliveries go again: at their schedule, or at once if it has passed.",
)


@click.command()
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object: channel -> posts.")
@store_options
@click.pass_context
def scheduled(
    ctx: click.Context,
    channel: str | None,
    as_json: bool,
    config: str | None,
    database: str | None,
) -> None:
    """Upcoming posts by channel, in the order they will go, with the expected time."""
    from distributor.clock import SYSTEM
    from distributor.schedule import desk

    with open_store_for(ctx, config, database) as store:
        view = desk.upcoming(store, settings(ctx), SYSTEM.now(), channel)
    if as_json:
        print_json({name: [_item(u) for u in ups] for name, ups in view.items()})
    else:
        _table(view)


def _item(u: desk.Upcoming) -> dict[str, Any]:
    from distributor.review import iso

    d = u.delivery
    return {
        "delivery_id": d.id,
        "article_id": d.article_id,
        "state": d.state.value,
        "goes_at": iso(u.goes_at),
        "note": u.note,
        "text": d.draft.get("text"),
    }


def _table(view: dict[str, list[desk.Upcoming]]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    if not view:
        out.print("nothing is waiting to be posted")
        return
    table = Table("channel", "goes at (UTC)", "id", "state", "note", "post")
    for name, ups in view.items():
        for u in ups:
            at = u.goes_at.strftime("%Y-%m-%d %H:%M") if u.goes_at else "-"
            text = " ".join(str(u.delivery.draft.get("text") or "").split())[:50]
            table.add_row(name, at, str(u.delivery.id), u.delivery.state.value, u.note, Text(text))
    out.print(table)
