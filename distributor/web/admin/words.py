"""What the admin pages say, in the newsroom's words, in one place (translated once: every
word here is a message id of the catalogue, see i18n.py).

States are a word, an icon and a colour class (never colour alone); errors say what happened
on the platform and what to do, not the exception class or the HTTP status; accounts are
shown as the handle `distributor check` saw, else the channel's name (never a variable name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from distributor.store.models import Delivery, Outcome, State
from distributor.web.admin.i18n import N_, Text

Gettext = Callable[[str], str]

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
    State.PLANNED: Label(N_("Planned"), "◷", "wait"),
    State.AWAITING_REVIEW: Label(N_("Needs review"), "✎", "warn"),
    State.QUEUED: Label(N_("Queued"), "◷", "wait"),
    State.CLAIMED: Label(N_("Sending"), "↗", "wait"),
    State.SENDING: Label(N_("Sending"), "↗", "wait"),
    State.SENT: Label(N_("Posted"), "✓", "ok"),
    State.RETRY_WAIT: Label(N_("Will retry"), "↻", "warn"),
    State.UNKNOWN: Label(N_("Check platform"), "?", "bad"),
    State.FAILED: Label(N_("Failed"), "✕", "bad"),
    State.CANCELLED: Label(N_("Cancelled"), "–", "off"),
    State.RETRACTED: Label(N_("Deleted"), "⌫", "off"),
}
HELD = Label(N_("On hold"), "⏸", "warn")


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
    "MaybeSent": N_(
        "%(p)s did not answer in time; the post may exist — check %(a)s on %(p)s before "
        "sending again."
    ),
    "NotSent": N_("%(p)s could not be reached; nothing was posted."),
    "RateLimited": N_("%(p)s asked us to slow down; nothing was posted yet."),
    "Rejected": N_("%(p)s refused the post."),
    "DuplicateContent": N_("%(p)s says this post already exists — look for it on %(a)s."),
    "AuthFailed": N_("%(p)s no longer accepts the login of %(a)s; an admin must renew it."),
}
_SHORT = {
    "MaybeSent": N_("no answer"),
    "NotSent": N_("not reached"),
    "RateLimited": N_("slowed down"),
    "Rejected": N_("refused"),
    "DuplicateContent": N_("duplicate"),
    "AuthFailed": N_("login refused"),
    "sent": N_("posted"),
    "retry": N_("will retry"),
    "unknown": N_("outcome unknown"),
    "failed": N_("failed"),
}
_NEXT = {
    State.RETRY_WAIT: N_("It is tried again by itself."),
    State.FAILED: N_("It was not sent: retry or cancel it."),
}
# Retract outcomes per channel (actions.Retraction), event actions and scheduling notes.
OUTCOMES = {
    "planned": N_("planned"),
    "retracted": N_("deleted"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
    "unresolved": N_("unresolved"),
    "skipped": N_("skipped"),
}
EVENTS = {
    "planned": N_("planned"),
    "approved": N_("approved"),
    "approved with edited text": N_("approved with edited text"),
    "retry": N_("sent again"),
    "retract failed": N_("delete failed"),
    "pause": N_("paused the queue"),
    "resume": N_("resumed the queue"),
    "embargo": N_("embargo"),
    "reschedule": N_("rescheduled"),
    "hold": N_("held"),
    "release": N_("released"),
    "admin login": N_("signed in"),
    "reauth cleared": N_("sign-in renewed"),
}
NOTES = {"held": N_("On hold"), "awaiting review": N_("Needs review")}


def problem(d: Delivery, handles: Mapping[str, str | None], _: Gettext = str) -> str:
    """The delivery's last error in plain words, with what happens next ('' when none)."""
    p, a = platform(d.platform), account(d, handles)
    if d.state not in _NEXT and d.state is not State.UNKNOWN:
        return ""  # sent, on its way or closed: an old error is history (the attempts)
    if d.state is State.UNKNOWN:
        text = _(_ERRORS["MaybeSent"])
    elif d.error_kind in _ERRORS:
        text = _(_ERRORS[d.error_kind])
    elif d.last_error or d.state is State.FAILED:
        text = _(N_("Sending to %(p)s failed."))
    else:
        return ""
    then = _NEXT.get(d.state)
    return text % {"p": p, "a": a} + (" " + _(then) if then else "")


def short(kind: str | None, outcome: Outcome | str, _: Gettext = str) -> str:
    """An attempt's outcome in a word or two (the attempts table)."""
    word = _SHORT.get("sent" if outcome == Outcome.SENT else kind or "") or _SHORT.get(outcome)
    return _(word) if word else str(outcome)


def force_needed(d: Delivery, handles: Mapping[str, str | None]) -> Text:
    """A retry refused for want of the tick box: say which box, and why."""
    return Text(
        "Not sent again: the post may already be on %(p)s. Look for it on %(a)s; if it is not "
        "there, tick “I checked %(p)s: it was not posted; send again” and press Retry.",
        p=platform(d.platform),
        a=account(d, handles),
    )


def refused(action: str, d: Delivery | None) -> Text | None:
    """A refused Cancel or Approve in the desk's words, from the delivery's state now (None:
    the action's own message says it best, e.g. an edited text that is too long)."""
    if d is None:
        return None
    p = platform(d.platform)
    if action == "cancel" and d.state is State.SENT:
        return Text(
            "Already posted on %(p)s: to delete the post, retract the article on its page.", p=p
        )
    if action == "cancel" and d.state is State.SENDING:
        return Text("Being sent to %(p)s right now: wait for the outcome, then decide.", p=p)
    if action == "cancel" and d.final:
        return Text("Nothing to cancel: this post is closed already (see its state above).")
    if action == "approve" and d.state is not State.AWAITING_REVIEW:
        return Text("Not waiting for review any more: someone approved or cancelled it meanwhile.")
    return None


def templates(_: Gettext = str) -> dict[str, Any]:
    """The template globals for one language: `label`, `platform`, `problem`, `short`."""
    return {
        "label": lambda d: replace(label(d), word=_(label(d).word)),
        "platform": platform,
        "problem": lambda d, handles: problem(d, handles, _),
        "short": lambda kind, outcome: short(kind, outcome, _),
    }


def filters(_: Gettext = str) -> dict[str, Callable[[object], str]]:
    """Jinja filters for one language: `state` (a state's value), `outcome`, `event`, `note`."""

    def word(table: Mapping[str, str]) -> Callable[[object], str]:
        return lambda value: _(table[str(value)]) if str(value) in table else str(value)

    states = {s.value: lbl.word for s, lbl in STATES.items()}
    state = word(states)

    def event(action: object) -> str:
        """`queued->claimed` (a state change) reads `Queued → Sending`."""
        text = str(action)
        if "->" in text:
            return " → ".join(state(part) for part in text.split("->", 1))
        return word(EVENTS)(text)

    return {"state": state, "outcome": word(OUTCOMES), "event": event, "note": word(NOTES)}
