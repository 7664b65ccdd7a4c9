"""`distributor log`, `show` and `audit`: read the post log (tables for people, JSON/CSV for tools).

Exit codes: 0 ok; 1 `audit` found something that needs a person (unknown, stuck or overdue);
2 bad input (unknown state, bad --since, no such delivery or article); 3 the store failed.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import click

from distributor.cli.common import (
    console,
    delivery_id,
    open_store_for,
    parse_since,
    print_json,
    store_options,
    store_url,
)
from distributor.review import FIELDS, attention, detail, row
from distributor.store.models import FINAL, Delivery, Filters, State

_STYLE = {
    "sent": "green",
    "failed": "red",
    "unknown": "bold magenta",
    "retracted": "dim",
    "cancelled": "dim",
    "awaiting_review": "yellow",
}


def _states(values: tuple[str, ...]) -> tuple[State, ...]:
    from distributor.errors import ConfigError

    known = [s.value for s in State]
    for v in values:
        if v not in known:
            raise ConfigError(f"--status {v!r}: not a state (states: {', '.join(known)})")
    return tuple(State(v) for v in values)


def _now() -> datetime:
    from distributor.clock import SYSTEM

    return SYSTEM.now()


@click.command()
@click.option(
    "--status",
    "states",
    multiple=True,
    metavar="STATE",
    help="Only this state (repeatable): queued, sent, failed, unknown, awaiting_review, ...",
)
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Only this channel (repeatable)."
)
@click.option("--since", metavar="24h|ISO", help="Only deliveries created since then.")
@click.option("--article", metavar="ID|URL|GUID", help="Only this article's deliveries.")
@click.option("--limit", default=50, show_default=True, help="At most this many (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header line.")
@store_options
@click.pass_context
def log(
    ctx: click.Context,
    states: tuple[str, ...],
    channels: tuple[str, ...],
    since: str | None,
    article: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
    config: str | None,
    database: str | None,
) -> None:
    """The post log, newest first: every delivery with its state, attempts and post."""
    from distributor.errors import ConfigError
    from distributor.store import reader

    if as_json and as_csv:
        raise ConfigError("--json and --csv: choose one")
    if limit < 0:
        raise ConfigError(f"--limit {limit}: must be 0 (all) or more")
    filters = Filters(
        states=_states(states),
        channels=channels,
        since=parse_since(since, _now()) if since else None,
    )
    # Without --article (found by id, URL or guid through the store), SQLite is read without
    # SQLAlchemy: its imports would be half of this command's time (store/reader.py).
    url = store_url(ctx, config, database, create=False)
    found = None if article else reader.deliveries(url, filters, limit or None)
    if found is None:
        from distributor.actions import all_deliveries, find_article

        with open_store_for(ctx, config, database) as store:
            if article:
                filters = replace(filters, article_id=find_article(store, article))
            found = list(all_deliveries(store, filters, limit or None))
    if as_json:
        print_json([row(d) for d in found])
    elif as_csv:
        write_csv([row(d) for d in found])
    else:
        log_table(found)


def write_csv(rows: list[dict[str, Any]]) -> None:
    """CSV for spreadsheets: no cell starts a formula, no raw control characters."""
    import csv

    from distributor.cli.escape import csv_cell

    out = csv.DictWriter(sys.stdout, fieldnames=FIELDS, lineterminator="\n")
    out.writeheader()
    out.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)


def log_table(found: list[Delivery]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    if not found:
        out.print("no deliveries match")
        return
    from distributor.review import goes_at

    when = [goes_at(d) for d in found]
    cols = ["id", "created (UTC)", "channel", "state", "tries", "post / error"]
    table = Table(*cols, *(["goes at (UTC)"] if any(when) else []))
    for d, at in zip(found, when, strict=True):
        detail = d.last_error if d.state not in FINAL or d.state.value == "failed" else None
        state = _state(d.state.value) + (" (held)" if d.held else "")
        go = [at.strftime("%Y-%m-%d %H:%M") if at else ""] if any(when) else []
        table.add_row(
            str(d.id),
            d.created_at.strftime("%Y-%m-%d %H:%M"),
            d.channel,
            state,
            str(d.attempts),
            Text(detail or d.remote_url or _snippet(d.draft.get("text"))),
            *go,
        )
    out.print(table)


def _snippet(text: object, width: int = 60) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.command()
@click.argument("id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@store_options
@click.pass_context
def show(
    ctx: click.Context, id: str, as_json: bool, config: str | None, database: str | None
) -> None:
    """One delivery: its post, every attempt and every action taken on it."""
    from distributor.actions import get

    with open_store_for(ctx, config, database) as store:
        d = get(store, delivery_id(id))
        events = list(reversed(store.events(delivery_id=d.id, limit=1000)))
        art = store.article(d.article_id)
    data = detail(d, events, art)
    if as_json:
        print_json(data)
    else:
        _show_text(data)


def _show_text(data: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(
        Text(
            f"delivery {data['delivery_id']} · {data['channel']} ({data['platform']})", style="bold"
        )
    )
    for key in (
        "state",
        "title",
        "url",
        "article_id",
        "attempts",
        "created_at",
        "updated_at",
        "sent_at",
        "goes_at",
        "held",
        "embargo_until",
        "priority",
        "not_before",
        "lease_owner",
        "remote_url",
        "remote_id",
        "error_kind",
        "error",
    ):
        quiet = (key == "held" and not data[key]) or data.get(key) == "normal"
        if data.get(key) not in (None, "") and not quiet:
            out.print(Text(f"  {key:<13} {data[key]}"))
    out.print(Panel(Text(str(data["text"] or "")), title="post", title_align="left"))
    if data["history"]:
        t = Table(
            "n", "started (UTC)", "outcome", "ms", "worker", "error / remote id", title="attempts"
        )
        for a in data["history"]:
            note = (
                f"{a['error_kind']}: {a['detail']}"
                if a["error_kind"]
                else a["remote_id"] or a["detail"]
            )
            t.add_row(
                str(a["n"]),
                a["started_at"],
                a["outcome"],
                str(a["latency_ms"] or ""),
                Text(a["worker"]),
                Text(note or ""),
            )
        out.print(t)
    if data["events"]:
        t = Table("at (UTC)", "who", "action", "detail", title="events")
        for e in data["events"]:
            t.add_row(e["at"], Text(e["actor"]), e["action"], Text(e["detail"]))
        out.print(t)


# -- audit --------------------------------------------------------------------------------
@click.command()
@click.option("--since", metavar="24h|ISO", help="Only deliveries created since then.")
@click.option(
    "--stuck-after",
    default="15m",
    show_default=True,
    metavar="DURATION",
    help="A due delivery not sent after this long counts as stuck.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@store_options
@click.pass_context
def audit(
    ctx: click.Context,
    since: str | None,
    stuck_after: str,
    as_json: bool,
    config: str | None,
    database: str | None,
) -> None:
    """Every delivery not in a final state, oldest first, with its age.

    Exit code 1 when any of them needs a person (outcome unknown, worker died, overdue),
    so `distributor audit --since 24h` works as a monitoring check.
    """
    from distributor.config import parse_duration
    from distributor.errors import ConfigError

    now = _now()
    bad = lambda key, problem: ConfigError(f"{key}: {problem}")  # noqa: E731
    limit = timedelta(seconds=parse_duration(stuck_after, bad, "--stuck-after"))
    with open_store_for(ctx, config, database) as store:
        found = store.audit(parse_since(since, now) if since else None)
        paused = store.paused()
        open_alerts = store.alerts(open_only=True, limit=100)
        turns = store.gaps()
    items = [
        {
            **row(d),
            "age_seconds": int((now - d.created_at).total_seconds()),
            "attention": attention(d, now, limit, turns),
        }
        for d in found
    ]
    flagged = sum(1 for i in items if i["attention"])
    from distributor.cli.ops import alert_row

    if as_json:
        print_json(
            {
                "paused": paused,
                "open": len(items),
                "attention": flagged,
                "deliveries": items,
                "alerts": [alert_row(a) for a in open_alerts],
            }
        )
    else:
        _audit_table(items, paused, flagged)
        from rich.text import Text

        for a in open_alerts:  # open incidents (distributor alerts list)
            console().print(Text.assemble(("ALERT ", "bold red"), f"{a.key}: {a.summary}"))
    if flagged:
        ctx.exit(1)


def _audit_table(items: list[dict[str, Any]], paused: bool, flagged: int) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    if paused:
        out.print("[bold yellow]queue is PAUSED[/] (distributor resume)")
    if not items:
        out.print("nothing open: every delivery is sent, failed, cancelled or retracted")
        return
    table = Table("id", "age", "channel", "state", "tries", "needs attention")
    for i in items:
        table.add_row(
            str(i["delivery_id"]),
            _age(i["age_seconds"]),
            Text(i["channel"]),
            _state(i["state"]),
            str(i["attempts"]),
            Text(i["attention"] or "", style="red"),
        )
    out.print(table)
    out.print(f"{len(items)} open, {flagged} need attention")


def _age(seconds: int) -> str:
    """`2d 3h`, `3h 5m`, `5m`, `40s`."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _state(value: str) -> Any:
    from rich.text import Text

    return Text(value, style=_STYLE.get(value, ""))
