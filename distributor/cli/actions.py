"""`distributor approve/cancel/retry/retract/pause/resume`: act on deliveries, on the record.

Every change is stored with who made it (`--as NAME`, default the OS user). Exit codes: 0 done;
1 `retract` left something unresolved (in flight or outcome unknown); 2 bad input or an action
that does not fit the delivery's state (e.g. retrying what may have been posted without
--force); 3 the store failed; 4 a platform refused or failed to delete a post.
"""

from __future__ import annotations

from typing import Any

import click

from distributor.cli.common import (
    actor_name,
    actor_option,
    console,
    delivery_id,
    echo,
    open_store_for,
    print_json,
    settings,
    store_options,
)


def _done(before: str, d: Any, note: str = "") -> None:
    click.echo(f"delivery {d.id} ({d.channel}): {before} -> {d.state}{note}")


def json_option(command: Any) -> Any:
    """`--json` on an action: the result as JSON instead of a sentence."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print the result as JSON (the `log --json` fields plus action, before, by).",
    )(command)


def result(action: str, before: Any, d: Any, who: str) -> dict[str, Any]:
    """One acted-on delivery as JSON: `log --json`'s fields, what was done, from which state."""
    from distributor.review import row

    return {"action": action, "before": str(before), "by": who, **row(d)}


@click.command()
@click.argument("id", metavar="[ID]", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed delivery.")
@click.option(
    "--force",
    is_flag=True,
    help="Also retry what may have been posted (unknown, retry_wait, dead worker's sending).",
)
@actor_option
@store_options
@json_option
@click.pass_context
def retry(
    ctx: click.Context,
    id: str | None,
    all_failed: bool,
    force: bool,
    actor: str | None,
    config: str | None,
    database: str | None,
    as_json: bool,
) -> None:
    """Queue delivery ID (or every failed one) to be sent again.

    A failed delivery is queued at once. One whose outcome is unknown, whose worker died while
    sending, or that waits for its own retry may already be on the platform: check there, then
    pass --force. A sent delivery is never sent twice. With --json: one object (an array
    with --failed).
    """
    from distributor import actions
    from distributor.errors import ConfigError

    who = actor_name(actor)
    if all_failed == (id is not None):
        raise ConfigError("retry: give a delivery ID or --failed (not both)")
    with open_store_for(ctx, config, database) as store:
        if id is None:
            done = actions.retry_failed(store, who)
            if as_json:
                print_json([result("retry", "failed", d, who) for d in done])
                return
            for d in done:
                _done("failed", d)
            click.echo(f"{len(done)} failed deliveries queued again")
            return
        before = actions.get(store, delivery_id(id)).state
        d = actions.retry(store, delivery_id(id), who, force=force)
    print_json(result("retry", before, d, who)) if as_json else _done(before, d)


@click.command()
@click.argument("id", metavar="ID")
@click.option("--text", help="Post this text instead (checked against the platform's limit).")
@actor_option
@store_options
@json_option
@click.pass_context
def approve(
    ctx: click.Context,
    id: str,
    text: str | None,
    actor: str | None,
    config: str | None,
    database: str | None,
    as_json: bool,
) -> None:
    """Release delivery ID (a channel with `review = true`) to be sent."""
    from distributor import actions

    who = actor_name(actor)
    with open_store_for(ctx, config, database) as store:
        d = actions.approve(store, delivery_id(id), who, text)
    if as_json:
        print_json({**result("approve", "awaiting_review", d, who), "edited": text is not None})
    else:
        _done("awaiting_review", d, " (text edited)" if text is not None else "")


@click.command()
@click.argument("id", metavar="ID")
@actor_option
@store_options
@json_option
@click.pass_context
def cancel(
    ctx: click.Context,
    id: str,
    actor: str | None,
    config: str | None,
    database: str | None,
    as_json: bool,
) -> None:
    """Stop delivery ID before it is posted."""
    from distributor import actions

    who = actor_name(actor)
    with open_store_for(ctx, config, database) as store:
        before = actions.get(store, delivery_id(id)).state
        d = actions.cancel(store, delivery_id(id), who)
    print_json(result("cancel", before, d, who)) if as_json else _done(before, d)


@click.command()
@click.argument("article", metavar="ARTICLE")
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Only this channel (repeatable)."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome per delivery as JSON.")
@actor_option
@store_options
@click.pass_context
def retract(
    ctx: click.Context,
    article: str,
    channels: tuple[str, ...],
    yes: bool,
    as_json: bool,
    actor: str | None,
    config: str | None,
    database: str | None,
) -> None:
    """Delete ARTICLE's posts everywhere (ARTICLE = article id, URL or guid).

    Sent posts are deleted on their platform and marked retracted; deliveries not yet posted
    are cancelled. A delete that fails is reported for its channel and stays `sent` (run the
    command again). Asks for confirmation unless --yes.

    Exit code 0 when every post is gone, 4 when a platform refused or failed a delete,
    1 when a delivery is in flight or its outcome unknown (reconcile, then retract again).
    """
    from distributor import actions

    who = actor_name(actor)
    with open_store_for(ctx, config, database) as store:
        aid, plan = actions.retract_plan(store, article, channels)
        deletes = sum(1 for step in plan if step.action == "delete")
        cancels = sum(1 for step in plan if step.action == "cancel")
        if not yes and deletes + cancels:
            _show_plan(aid, plan)
            question = f"Delete {deletes} post(s) and cancel {cancels} pending of article {aid}?"
            click.confirm(question, abort=True, err=True)
        done = actions.retract(store, settings(ctx), aid, who, plan=plan)
    if as_json:
        print_json([_step_json(step) for step in done])
    else:
        for step in done:
            echo(_step_line(step))
    if any(step.outcome == "failed" for step in done):
        ctx.exit(4)
    if any(step.outcome == "unresolved" for step in done):
        ctx.exit(1)


def _show_plan(aid: str, plan: list[Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table("id", "channel", "state", "will", "post", title=f"article {aid}")
    for step in plan:
        d = step.delivery
        will = {"delete": "delete post", "cancel": "cancel"}.get(step.action, step.detail)
        table.add_row(str(d.id), Text(d.channel), d.state.value, will, Text(d.remote_url or ""))
    console().print(table)


def _step_line(step: Any) -> str:
    d = step.delivery
    line = f"delivery {d.id} ({d.channel}): {step.outcome}"
    return f"{line}: {step.detail}" if step.detail else line


def _step_json(step: Any) -> dict[str, Any]:
    d = step.delivery
    return {
        "delivery_id": d.id,
        "article_id": d.article_id,
        "channel": d.channel,
        "platform": d.platform,
        "outcome": step.outcome,
        "state": d.state.value,
        "remote_url": d.remote_url,
        "detail": step.detail or None,
    }


@click.command()
@actor_option
@store_options
@json_option
@click.pass_context
def pause(
    ctx: click.Context, actor: str | None, config: str | None, database: str | None, as_json: bool
) -> None:
    """Stop all workers from sending (they obey within one poll); `resume` undoes it."""
    _switch(ctx, actor, config, database, pausing=True, as_json=as_json)


@click.command()
@actor_option
@store_options
@json_option
@click.pass_context
def resume(
    ctx: click.Context, actor: str | None, config: str | None, database: str | None, as_json: bool
) -> None:
    """Let workers send again after `pause`."""
    _switch(ctx, actor, config, database, pausing=False, as_json=as_json)


def _switch(
    ctx: click.Context,
    actor: str | None,
    config: str | None,
    database: str | None,
    *,
    pausing: bool,
    as_json: bool,
) -> None:
    from distributor import actions

    who = actor_name(actor)
    with open_store_for(ctx, config, database, create=True) as store:
        was = (actions.pause if pausing else actions.resume)(store, who)
    if as_json:  # pause returns whether it was paused already, resume whether it was paused
        changed = not was if pausing else was
        action = "pause" if pausing else "resume"
        print_json({"action": action, "by": who, "paused": pausing, "changed": changed})
    elif pausing:
        click.echo("queue was already paused" if was else f"queue paused by {who}")
    else:
        click.echo(f"queue resumed by {who}" if was else "queue was not paused")
