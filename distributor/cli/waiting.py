"""`publish --wait`: progress on a terminal, retry chatter kept off the console, and one line
for what was not sent.

The outcome table already gives every delivery's reason, so the per-try "retrying in 2.0s"
warnings (dozens when a platform is down) stay out of the way unless `--log-level` asks for
them. Deliveries still pending when the wait ends (the timeout, or a platform that cannot be
reached) make one line on stderr and exit code 7; they stay queued for a worker.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.store.models import Delivery

EXIT_NOT_SENT = 7
CHATTY = ("distributor.dispatch", "distributor.platforms")
UNREACHABLE = ("connection refused or host unreachable", "connect timeout")


@contextlib.contextmanager
def sending_progress(ctx: click.Context, wait: bool) -> Iterator[Callable[[int, int], None] | None]:
    """With --wait: quiet retries and a bar of settled deliveries (on a terminal only)."""
    if not wait:
        yield None
        return
    from distributor.progress import progress

    with quiet_retries(ctx), progress("planning") as bar:

        def on_progress(done: int, total: int) -> None:
            bar.update(completed=done, total=total, description="sending")

        yield on_progress


@contextlib.contextmanager
def quiet_retries(ctx: click.Context) -> Iterator[None]:
    """Per-try warnings off the console while waiting (unless --log-level was given)."""
    if ctx.find_root().ensure_object(dict).get("log_level"):
        yield
        return
    loggers = [logging.getLogger(name) for name in CHATTY]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, before, strict=True):
            lg.setLevel(level)


def pending(outcomes: Sequence[Delivery]) -> list[Delivery]:
    """Deliveries neither sent nor settled otherwise (failed, unknown, in review, cancelled)."""
    from distributor.store.models import State

    waiting = {State.PLANNED, State.QUEUED, State.CLAIMED, State.SENDING, State.RETRY_WAIT}
    return [d for d in outcomes if d.state in waiting]


def not_sent_line(outcomes: Sequence[Delivery], conf: Settings) -> str | None:
    """One line saying what is not sent and why (None: everything settled)."""
    left = pending(outcomes)
    if not left:
        return None
    channels = ", ".join(sorted({d.channel for d in left}))
    states = "/".join(sorted({d.state.value for d in left}))
    line = (
        f"not sent when --wait returned: {len(left)} of {len(outcomes)} deliveries "
        f"({channels}) are {states}; a running `distributor worker` sends them later"
    )
    if any(any(u in (d.last_error or "") for u in UNREACHABLE) for d in left):
        where = (
            f"the sandbox at {conf.sandbox_url} (start it with `distributor sandbox`)"
            if conf.sandbox_url
            else "the platform"
        )
        line = f"platform unreachable: {where} refused or did not answer the connection; {line}"
    return line
