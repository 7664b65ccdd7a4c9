"""Progress for long commands: a rich bar on stderr when it is a terminal, nothing when piped.

`publish --wait`, `watch --backfill`, `backup` and `make bench` take a while before they have
anything to print. On a terminal they show what they are doing; piped or redirected (cron,
CI, `| jq`) they print exactly what they printed before. rich decides what a terminal is, so
`TTY_COMPATIBLE=1` forces the bar and `TTY_COMPATIBLE=0` hides it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any


class Bar:
    """One task on a bar; every method is a no-op when there is no terminal."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress, self._task = progress, task

    def advance(self, steps: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def update(
        self,
        *,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task, completed=completed, total=total, description=description
            )


def on_terminal() -> bool:
    """Whether stderr is a terminal, as rich sees it (TTY_COMPATIBLE overrides)."""
    from rich.console import Console

    return bool(Console(stderr=True).is_terminal)


@contextlib.contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Bar]:
    """A bar for the `with` block (gone afterwards), or a silent stand-in when piped."""
    if not on_terminal():
        yield Bar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    # stdout goes through the bar (printed above it) only when it is the same terminal: piped
    # stdout (`| jq`, `> file`) must get every byte, never the bar's stderr.
    with Progress(
        *columns,
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=False,
    ) as bar:
        yield Bar(bar, bar.add_task(description, total=total))
