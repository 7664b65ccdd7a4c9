"""What the admin pages say, in the newsroom's words, in one place (to translate it once).

States are a word, an icon and a colour class (never colour alone); errors say what happened
on the platform and what to do, not the exception class or the HTTP status; accounts are
shown as the handle `distributor check` saw, else the channel's name (never a variable name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from distributor.store.models import Delivery, Outcome, State

PLATFORMS = {
    "bluesky": "Bluesky",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "pinterest": "Pinterest",
    "telegram": "Telegram",
    "threads": "Threads",
    "x": "X",
}


@dataclass(frozen=True, slots=True)
class Label:
    """How a state looks on a chip: word, icon (decoration; the word carries the meaning)."""

    word: str
    icon: str
    tone: str  # ok | bad | warn | wait | off (the CSS colour class)


STATES: Mapping[State, Label] = {
    State.PLANNED: Label("Planned", "◷", "wait"),
    State.AWAITING_REVIEW: Label("Needs review", "✎", "warn"),
    State.QUEUED: Label("Queued", "◷", "wait"),
    State.CLAIMED: Label("Sending", "↗", "wait"),
    State.SENDING: Label("Sending", "↗", "wait"),
    State.SENT: Label("Posted", "✓", "ok"),
    State.RETRY_WAIT: Label("Will retry", "↻", "warn"),
    State.UNKNOWN: Label("Check platform", "?", "bad"),
    State.FAILED: Label("Failed", "✕", "bad"),
    State.CANCELLED: Label("Cancelled", "–", "off"),
    State.RETRACTED: Label("Deleted", "⌫", "off"),
}
HELD = Label("On hold", "⏸", "warn")


def label(d: Delivery) -> Label:
    """The chip of a delivery (a held waiting one says so)."""
    if d.held and d.state in (State.PLANNED, State.AWAITING_REVIEW, State.QUEUED):
        return HELD
    return STATES[d.state]


def platform(name: str) -> str:
    return PLATFORMS.get(name, name.capitalize())


def account(d: Delivery, handles: Mapping[str, str | None]) -> str:
    """The account as people know it: the handle/page name from `check`, else the channel."""
    return handles.get(d.account_key) or d.channel


# Why an attempt did not post, by the stored error kind (the PublishError subclass).
_ERRORS = {
    "MaybeSent": "{p} did not answer in time; the post may exist — check {a} on {p} before "
    "sending again.",
    "NotSent": "{p} could not be reached; nothing was posted.",
    "RateLimited": "{p} asked us to slow down; nothing was posted yet.",
    "Rejected": "{p} refused the post.",
    "DuplicateContent": "{p} says this post already exists — look for it on {a}.",
    "AuthFailed": "{p} no longer accepts the login of {a}; an admin must renew it.",
}
_SHORT = {
    "MaybeSent": "no answer",
    "NotSent": "not reached",
    "RateLimited": "slowed down",
    "Rejected": "refused",
    "DuplicateContent": "duplicate",
    "AuthFailed": "login refused",
}
_NEXT = {
    State.RETRY_WAIT: " It is tried again by itself.",
    State.FAILED: " It was not sent: retry or cancel it.",
}


def problem(d: Delivery, handles: Mapping[str, str | None]) -> str:
    """The delivery's last error in plain words, with what happens next ('' when none)."""
    p, a = platform(d.platform), account(d, handles)
    if d.state not in _NEXT and d.state is not State.UNKNOWN:
        return ""  # sent, on its way or closed: an old error is history (the attempts)
    if d.state is State.UNKNOWN:
        text = _ERRORS["MaybeSent"]
    elif d.error_kind in _ERRORS:
        text = _ERRORS[d.error_kind]
    elif d.last_error or d.state is State.FAILED:
        text = "Sending to {p} failed."
    else:
        return ""
    return text.format(p=p, a=a) + _NEXT.get(d.state, "")


def short(kind: str | None, outcome: Outcome) -> str:
    """An attempt's outcome in a word or two (the attempts table)."""
    if outcome == Outcome.SENT:
        return "posted"
    return _SHORT.get(kind or "", outcome)


def force_needed(d: Delivery, handles: Mapping[str, str | None]) -> str:
    """A retry refused for want of the tick box: say which box, and why."""
    p = platform(d.platform)
    return (
        f"Not sent again: the post may already be on {p}. Look for it on {account(d, handles)}; "
        f"if it is not there, tick “I checked {p}: it was not posted; send again” and press Retry."
    )


def templates() -> dict[str, Any]:
    """The template globals and filters these words need."""
    return {"label": label, "platform": platform, "problem": problem, "short": short}
