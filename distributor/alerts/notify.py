"""Telling people: Apprise sends one message to every configured target.

Apprise covers e-mail (`mailto://`, `mailtos://`), Slack, Mattermost, Microsoft Teams, Discord,
Telegram (`tgram://`), generic JSON webhooks (`json://`) and many more. Target URLs are
`Secret`s: registered for scrubbing, revealed only to hand them to Apprise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from distributor.errors import ConfigError
from distributor.redact import scrub
from distributor.secrets import Secret

log = logging.getLogger("distributor.alerts")


def _apprise(targets: Sequence[Secret]) -> Any:
    import apprise

    box = apprise.Apprise()
    for target in targets:
        if not box.add(target.reveal()):
            raise ConfigError(
                f"[alerts] {target.name}: not an Apprise URL Apprise can use "
                "(see https://github.com/caronc/apprise/wiki)"
            )
    return box


def validate(targets: Sequence[Secret]) -> None:
    """ConfigError naming the first target Apprise cannot parse (no value in the message)."""
    if targets:
        _apprise(targets)


def send(targets: Sequence[Secret], title: str, body: str) -> tuple[bool, str]:
    """Notify every target; (all delivered?, a short result line without secrets)."""
    if not targets:
        return True, "no targets configured (recorded only)"
    box = _apprise(targets)
    try:
        ok = bool(box.notify(title=scrub(title), body=scrub(body)))
    except Exception as exc:  # a plugin bug must not stop the worker
        log.exception("alert notification raised")
        return False, scrub(f"{type(exc).__name__}: {exc}")[:300]
    names = ", ".join(t.name for t in targets)
    return ok, f"{'sent to' if ok else 'FAILED for at least one of'} {names}"
