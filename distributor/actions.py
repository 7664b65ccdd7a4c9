"""What a person does to deliveries: approve, cancel, retry, retract, pause and resume.

The CLI (`distributor approve/cancel/retry/retract/pause/resume`) and the web admin UI call these
functions; they take an open store and the acting person's name (recorded with every change in
the store's event log), return what changed and raise `ActionError` (exit code 2) when a request
makes no sense for the delivery's state. Nothing here retries anything that may already have
been posted unless the caller says `force=True`: a duplicate post is worse than a late one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from distributor.errors import N_, DistributorError, Rejected, Say, StoreError, Told
from distributor.store.models import Delivery, Filters, State

if TYPE_CHECKING:
    from distributor.config import Channel, Settings
    from distributor.platforms.base import Adapter
    from distributor.store.store import Store

S = State
# What each human action may start from; anything else is refused with the reason below.
CANCELLABLE = (S.PLANNED, S.AWAITING_REVIEW, S.QUEUED, S.CLAIMED, S.RETRY_WAIT, S.UNKNOWN, S.FAILED)
# A retracted article must not come back: these are cancelled along with the deletes.
PENDING = (S.PLANNED, S.AWAITING_REVIEW, S.QUEUED, S.CLAIMED, S.RETRY_WAIT, S.FAILED)
_PAGE = 500


class ActionError(Told):
    """A review action that does not fit the delivery (wrong state, no such id, bad text); its
    message is a `Say`, so the admin UI shows it translated."""

    exit_code = 2


class NeedsForce(ActionError):
    """A retry of something that may already be posted, without `force`."""


def get(store: Store, id: int) -> Delivery:
    """The delivery with its attempts; ActionError (not StoreError) when there is none."""
    try:
        return store.get(id)
    except StoreError as exc:
        if "no delivery" in str(exc):
            raise ActionError(N_("no delivery with id %(id)s"), id=id) from None
        raise


def _move(
    store: Store,
    d: Delivery,
    to: State,
    actor: str,
    reason: str,
    *,
    now: datetime | None,
    draft: dict[str, object] | None = None,
) -> Delivery:
    """One checked transition from the state `d` was read in (a concurrent change loses)."""
    try:
        return store.transition(
            d.id, to, actor=actor, reason=reason, from_states=[d.state], draft=draft, now=now
        )
    except StoreError as exc:
        if "cannot go from" in str(exc):
            state = get(store, d.id).state
            raise ActionError(
                N_("delivery %(id)s is %(state)s now (it changed meanwhile)"), id=d.id, state=state
            ) from None
        raise


# -- approve / cancel ---------------------------------------------------------------------
def approve(
    store: Store, id: int, actor: str, text: str | None = None, *, now: datetime | None = None
) -> Delivery:
    """awaiting_review -> queued, optionally with an edited text (checked against the limit)."""
    d = get(store, id)
    if d.state is not S.AWAITING_REVIEW:
        raise ActionError(
            N_("delivery %(id)s is %(state)s, not awaiting review: nothing to approve"),
            id=id,
            state=d.state,
        )
    if text is None:
        return _move(store, d, S.QUEUED, actor, "approved", now=now)
    draft = edited_draft(d, text)
    return _move(store, d, S.QUEUED, actor, "approved with edited text", draft=draft, now=now)


def edited_draft(d: Delivery, text: str) -> dict[str, object]:
    """The delivery's draft with `text`, measured as its platform counts (ActionError if long)."""
    from distributor import limits

    text = text.strip()
    if not text:
        raise ActionError(N_("delivery %(id)s: the edited text is empty"), id=d.id)
    limit = int(d.draft.get("limit") or 0) or None
    try:
        m = limits.measure(d.platform, text, limit)
    except DistributorError as exc:  # e.g. Telegram HTML the platform would refuse
        problem = N_("delivery %(id)s: edited text: %(problem)s")
        raise ActionError(problem, id=d.id, problem=exc) from None
    if not m.fits:
        over = f"{m.length}/{m.limit}"
        if m.byte_limit is not None and (m.byte_length or 0) > m.byte_limit:
            over += f" ({m.byte_length}/{m.byte_limit} bytes)"
        raise ActionError(
            N_("delivery %(id)s: edited text is too long for %(platform)s: %(counts)s"),
            id=d.id,
            platform=d.platform,
            counts=over,
        )
    return {**d.draft, "text": text, "length": m.length}


def cancel(store: Store, id: int, actor: str, *, now: datetime | None = None) -> Delivery:
    """Stop a delivery that has not been posted (a claimed one is taken from its worker)."""
    d = get(store, id)
    if d.state not in CANCELLABLE:
        why = {
            S.SENDING: N_("it is being sent right now; wait for the outcome"),
            S.SENT: N_("it was posted; use `distributor retract` to delete the post"),
        }.get(d.state, N_("it is already final"))
        raise ActionError(
            N_("delivery %(id)s is %(state)s: cannot cancel, %(why)s"),
            id=id,
            state=d.state,
            why=Say(why),
        )
    return _move(store, d, S.CANCELLED, actor, "cancelled", now=now)


# -- retry --------------------------------------------------------------------------------
def retry(
    store: Store, id: int, actor: str, *, force: bool = False, now: datetime | None = None
) -> Delivery:
    """Queue a delivery again. `failed` just goes; anything that may have been posted (unknown,
    sending with a dead worker, retry_wait) needs `force`; `sent` never."""
    d = get(store, id)
    if d.state is S.FAILED:
        return _move(store, d, S.QUEUED, actor, "retry", now=now)
    if d.state in (S.UNKNOWN, S.RETRY_WAIT, S.SENDING):
        return _forced_retry(store, d, actor, force, now)
    why = {
        S.SENT: Say(
            N_("it was posted (%(post)s) and is never sent twice"),
            {"post": d.remote_url or d.remote_id},
        ),
        S.CANCELLED: Say(N_("cancelled deliveries stay cancelled")),
        S.RETRACTED: Say(N_("its post was retracted; retracted deliveries stay retracted")),
    }.get(d.state, Say(N_("it has not failed (it is still on its way)")))
    raise ActionError(
        N_("delivery %(id)s is %(state)s: cannot retry, %(why)s"), id=id, state=d.state, why=why
    )


def _forced_retry(
    store: Store, d: Delivery, actor: str, force: bool, now: datetime | None
) -> Delivery:
    dead = {s.id for s in store.stale(now=now)}
    if d.state is S.SENDING and d.id not in dead:
        raise ActionError(
            N_("delivery %(id)s is being sent by %(worker)s right now; wait for the outcome"),
            id=d.id,
            worker=d.lease_owner,
        )
    if not force:
        detail = {
            S.UNKNOWN: "its last attempt's outcome is unknown",
            S.SENDING: "its worker died while sending",
            S.RETRY_WAIT: f"it retries by itself at {_iso(d.not_before)}",
        }[d.state]
        raise NeedsForce(
            f"delivery {d.id} is {d.state} ({detail}): it may have been posted; "
            "check the platform, then use --force to send it again"
        )
    if d.state is S.SENDING:  # sending never goes straight back to queued (see store docs)
        d = _move(store, d, S.UNKNOWN, actor, "worker died while sending (forced retry)", now=now)
    return _move(store, d, S.QUEUED, actor, "retry --force", now=now)


def retry_failed(store: Store, actor: str, *, now: datetime | None = None) -> list[Delivery]:
    """Queue every `failed` delivery again; returns those requeued (races are skipped)."""
    done = []
    for d in list(all_deliveries(store, Filters(states=(S.FAILED,)))):
        try:
            done.append(_move(store, d, S.QUEUED, actor, "retry --failed", now=now))
        except ActionError:
            continue  # someone else acted on it meanwhile
    return done


def all_deliveries(store: Store, filters: Filters, limit: int | None = None) -> Iterator[Delivery]:
    """Every delivery matching `filters`, newest first, page by page (up to `limit`)."""
    after: str | None = None
    left = limit
    while left is None or left > 0:
        size = _PAGE if left is None else min(_PAGE, left)
        page, after = store.query(filters, limit=size, after=after)
        yield from page
        if left is not None:
            left -= len(page)
        if after is None:
            return


# -- pause / resume -----------------------------------------------------------------------
def pause(store: Store, actor: str, *, now: datetime | None = None) -> bool:
    """Stop every worker from claiming (obeyed within one poll); returns the previous state."""
    was = store.paused()
    store.pause(actor, now=now)
    return was


def resume(store: Store, actor: str, *, now: datetime | None = None) -> bool:
    """Let workers claim again; returns whether the queue was paused."""
    was = store.paused()
    store.resume(actor, now=now)
    return was


# -- retract ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Retraction:
    """What retract did (or would do) to one delivery of the article."""

    delivery: Delivery
    action: str  # delete | cancel | unresolved | skip
    outcome: str = "planned"  # planned | retracted | cancelled | failed | unresolved | skipped
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("retracted", "cancelled", "skipped")


def find_article(store: Store, ref: str) -> str:
    """The article id for `ref` (id, URL or guid); ActionError naming `ref` if unknown."""
    from distributor.article import canonical_url

    ref = ref.strip()
    if store.article(ref) is not None:
        return ref
    keys = [f"guid:{ref}"]
    if ref.lower().startswith(("http://", "https://")):
        keys.insert(0, f"url:{canonical_url(ref)}")
    found = store.article_id_for(keys)
    if found is None:
        raise ActionError(
            N_("no article %(ref)r in the post log (give its id, URL or guid)"), ref=ref
        )
    return found


def retract_plan(
    store: Store, article: str, channels: Sequence[str] = ()
) -> tuple[str, list[Retraction]]:
    """What `retract` would do to each delivery of the article (optionally on `channels`)."""
    aid = find_article(store, article)
    found = list(all_deliveries(store, Filters(article_id=aid, channels=tuple(channels))))
    if not found:
        where = f" on {', '.join(channels)}" if channels else ""
        raise ActionError(f"article {aid} has no deliveries{where}")
    return aid, [_plan_one(d) for d in reversed(found)]


def _plan_one(d: Delivery) -> Retraction:
    if d.state is S.SENT:
        return Retraction(d, "delete")
    if d.state in PENDING:
        return Retraction(d, "cancel")
    if d.state in (S.SENDING, S.UNKNOWN):
        why = "being sent now" if d.state is S.SENDING else "outcome unknown"
        return Retraction(d, "unresolved", "unresolved", f"{why}: reconcile, then retract again")
    return Retraction(d, "skip", "skipped", f"already {d.state}")


AdapterFactory = Callable[["Channel"], "Adapter"]


def retract(
    store: Store,
    settings: Settings,
    article: str,
    actor: str,
    channels: Sequence[str] = (),
    *,
    adapters: AdapterFactory | None = None,
    plan: Iterable[Retraction] | None = None,
    now: datetime | None = None,
) -> list[Retraction]:
    """Delete the article's posts (sent -> retracted) and cancel what is still pending.

    A delete that fails is reported in its Retraction and leaves that delivery `sent`, so a
    second `retract` tries it again. `plan` (from `retract_plan`) is re-checked per delivery.
    """
    steps = list(plan) if plan is not None else retract_plan(store, article, channels)[1]
    make = adapters or (lambda channel: _adapter(channel, settings))
    return [_retract_one(store, settings, step, actor, make, now) for step in steps]


def _adapter(channel: Channel, settings: Settings) -> Adapter:
    from distributor.platforms.registry import build_adapter

    return build_adapter(channel, settings)


def _retract_one(
    store: Store,
    settings: Settings,
    step: Retraction,
    actor: str,
    make: AdapterFactory,
    now: datetime | None,
) -> Retraction:
    d = step.delivery
    try:
        if step.action == "cancel":
            return replace(
                step,
                outcome="cancelled",
                delivery=_move(store, d, S.CANCELLED, actor, "article retracted", now=now),
            )
        if step.action != "delete":
            return step
        return replace(
            step, outcome="retracted", delivery=_delete(store, settings, d, actor, make, now)
        )
    except (DistributorError, NotImplementedError) as exc:
        from distributor.redact import scrub

        why = scrub(str(exc))  # it goes into the log and on screen: never a token
        store.record_event(
            actor, "retract failed", delivery_id=d.id, article_id=d.article_id, detail=why
        )
        return replace(step, outcome="failed", detail=why)


def _delete(
    store: Store,
    settings: Settings,
    d: Delivery,
    actor: str,
    make: AdapterFactory,
    now: datetime | None,
) -> Delivery:
    from distributor.post import Receipt

    if d.remote_id is None:
        raise ActionError(f"delivery {d.id} is sent but has no remote id to delete")
    adapter = make(settings.channel(d.channel))
    reason = f"deleted {d.remote_url or d.remote_id}"
    try:
        adapter.delete(Receipt(d.platform, d.remote_id, d.remote_url))
    except Rejected as exc:
        if exc.status not in (404, 410):
            raise
        # The platform says the post does not exist (deleted by hand, or by a retract that
        # crashed before recording it): the goal is reached, so record it as retracted.
        reason = f"already gone ({exc.status}): {d.remote_url or d.remote_id}"
    return _move(store, d, S.RETRACTED, actor, reason, now=now)


def _iso(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%SZ") if when else "?"
