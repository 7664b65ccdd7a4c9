"""Store contract for the desk's "Needs attention" reads: `stuck` decides in SQL exactly what
`review.attention` (the rule `distributor audit` applies row by row) calls stuck, and the
per-state counts count only the states asked for."""

from __future__ import annotations

import itertools
from datetime import timedelta

from store_helpers import T0

from distributor.article import Article
from distributor.review import attention
from distributor.store.models import PlanItem, State, to_ts
from distributor.store.store import Store

AFTER = timedelta(minutes=15)
NOW = T0 + timedelta(hours=2)
CHANNELS = ("masto", "sky", "tg")  # sky took its last spacing turn recently, tg long ago
STATES = (State.QUEUED, State.RETRY_WAIT, State.PLANNED, State.CLAIMED, State.SENDING)
STATES_ALL = (*STATES, State.UNKNOWN, State.AWAITING_REVIEW, State.SENT, State.FAILED)
TIMES = (None, NOW - timedelta(hours=1), NOW - timedelta(minutes=5), NOW + timedelta(hours=1))


def _fill(store: Store) -> None:
    """One delivery per combination of state, held, not_before, lease_until and channel."""
    combos = list(itertools.product(STATES_ALL, (False, True), TIMES, TIMES[1:]))
    d, g = store._t["deliveries"], store._t["channel_gaps"]
    for n in range(len(combos)):
        art = Article(url=f"https://news.example/a/{n}", title=f"Story {n}")
        items = [
            PlanItem(c, "mastodon", f"acct-{c}", {"text": "x"}, f"k-{n}-{c}") for c in CHANNELS
        ]
        store.plan(art, items, source="test", now=T0 + timedelta(seconds=n))
    with store._engine.begin() as conn:
        conn.execute(
            g.insert(),
            [
                {
                    "channel": "sky",
                    "last_at": to_ts(NOW),
                    "next_at": to_ts(NOW - timedelta(minutes=5)),
                },
                {"channel": "tg", "last_at": to_ts(T0), "next_at": to_ts(T0)},
            ],
        )
        ids = [r.id for r in conn.execute(d.select().order_by(d.c.id))]
        for (state, held, not_before, lease), chunk in zip(
            combos,
            [ids[i : i + len(CHANNELS)] for i in range(0, len(ids), len(CHANNELS))],
            strict=True,
        ):
            conn.execute(
                d.update()
                .where(d.c.id.in_(chunk))
                .values(
                    state=state.value,
                    held=held,
                    not_before=to_ts(not_before) if not_before else None,
                    lease_until=to_ts(lease),
                    updated_at=to_ts(T0),
                )
            )


def test_stuck_is_what_the_audit_rule_calls_stuck(store: Store) -> None:
    _fill(store)
    turns = store.gaps()
    expected = [
        d.id
        for d in store.audit()
        if d.state is not State.UNKNOWN and attention(d, NOW, AFTER, turns)
    ]
    assert len(expected) > 20  # every kind of stuck is in there, and more than one page
    count, oldest = store.stuck(NOW, AFTER, limit=20)
    assert count == len(expected)
    assert [d.id for d in oldest] == expected[:20]  # oldest first, like the audit
    assert {d.channel for d in oldest} >= {"masto", "tg"}  # sky took a turn 5 minutes ago
    assert store.stuck(NOW, AFTER, limit=1000)[1] == [
        d for d in store.audit() if d.id in set(expected)
    ]


def test_nothing_open_is_nothing_stuck(store: Store) -> None:
    assert store.stuck(NOW, AFTER, limit=20) == (0, [])


def test_counts_of_some_states_only(store: Store) -> None:
    _fill(store)
    every = store.counts_by_state()
    assert set(every) == {s.value for s in State}
    some = store.counts_by_state((State.FAILED, State.UNKNOWN))
    assert some == {"failed": every["failed"], "unknown": every["unknown"]}
    assert some["failed"] > 0
