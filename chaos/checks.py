"""The soak's invariants, measured after faults stopped and the rest settled.

* at most one remote post per (article, channel) in the sandbox (duplicates = 0);
* nothing lost: every article has a delivery per channel, none `failed`, every `sent` one has
  its post in the sandbox (lost = 0);
* every delivery final or `unknown`, and every `unknown` one listed by `audit` (its reason is
  reported: Telegram holds for a person; elsewhere a lookup that could not prove absence);
* the store's integrity check passes;
* no scheduled post (publish_at, embargo) exists on a platform before its time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from chaos.config import CHANNELS
from distributor.store.models import State

if TYPE_CHECKING:
    from chaos.soak import Figures, Soak
    from distributor.config import Settings
    from distributor.sandbox import Sandbox

MARK = re.compile(r"chaos-(\d{4})")


def _mark(*texts: Any) -> str | None:
    found = MARK.search(" ".join(json.dumps(t, ensure_ascii=False, default=str) for t in texts))
    return found.group(1) if found else None


def posts_by_article(box: Sandbox) -> Counter[tuple[str, str]]:
    """(platform, article number) -> how many live posts the sandbox holds."""
    out: Counter[tuple[str, str]] = Counter()
    for platform in CHANNELS:
        for post in box.posts(platform):
            mark = _mark(post.text, post.data)
            out[(platform, mark or f"unmarked:{post.id}")] += 1
    return out


def check(soak: Soak, settings: Settings, box: Sandbox) -> Figures:
    from chaos.soak import Figures
    from distributor.store import open_store

    fig = Figures(soak.backend, articles=soak.articles)
    fig.workers_started, fig.workers_killed = soak.started, soak.killed
    fig.reconcile = dict(soak.decisions)
    store = open_store(soak.url)
    try:
        deliveries, _ = store.query(limit=1_000_000)
        audit = {d.id for d in store.audit()}
        fig.integrity = store.integrity_check()
    finally:
        store.close()
    fig.deliveries = len(deliveries)
    fig.states = dict(Counter(d.state.value for d in deliveries))
    posts = posts_by_article(box)
    fig.duplicates = sum(n - 1 for n in posts.values() if n > 1)
    problems = fig.problems
    if fig.duplicates:
        twice = sorted(k for k, n in posts.items() if n > 1)
        problems.append(f"{fig.duplicates} duplicate posts: {twice[:10]}")
    if any(k[1].startswith("unmarked") for k in posts):
        problems.append("a post in the sandbox belongs to no article")
    planned = {(d.platform, _mark(d.draft.get("title"), d.draft.get("link"))) for d in deliveries}
    missing = soak.articles * len(CHANNELS) - len(planned)
    lost = [d for d in deliveries if d.state is State.FAILED]
    lost += [d for d in deliveries if d.state is State.SENT and not posts.get(_key(d))]
    fig.lost = len(lost) + max(0, missing)
    if fig.lost:
        some = [(d.id, d.state.value, d.last_error) for d in lost[:5]]
        problems.append(f"lost: {missing} never planned, {some}")
    for d in deliveries:
        if d.state is State.UNKNOWN:
            has_post = "post exists" if posts.get(_key(d)) else "no post"
            reason = f"{d.platform}: held for a person ({has_post})"
            if d.platform != "telegram":
                reason = f"{d.platform}: {d.last_error}"
            fig.unknown[reason] = fig.unknown.get(reason, 0) + 1
            if d.id not in audit:
                fig.audit_missing += 1
        elif not d.final:
            problems.append(f"delivery {d.id} ({d.platform}) ended {d.state.value}")
    if fig.audit_missing:
        problems.append(f"{fig.audit_missing} unknown deliveries not listed by audit")
    # `unknown` on a platform that can look its posts up is allowed (and listed by audit): its
    # lookup could not prove the post absent, e.g. more posts since the send than it pages
    # through. The short soak in the suite asserts there are none.
    if fig.integrity:
        problems.append(f"integrity: {fig.integrity[:5]}")
    fig.scheduled, early = early_posts(box, soak.due)
    if early:
        problems.append(f"{len(early)} posts before their time: {early[:5]}")
    fig.worker_tracebacks = sum(
        p.read_text(errors="replace").count("Traceback") for p in soak.folder.glob("worker-*.log")
    )
    return fig


def early_posts(box: Sandbox, due: dict[str, float]) -> tuple[int, list[str]]:
    """(scheduled posts seen, those the sandbox stored before their article's time)."""
    seen, early = 0, []
    for platform in CHANNELS:
        for post in box.posts(platform):
            mark = _mark(post.text, post.data)
            if mark in due:
                seen += 1
                if post.created_at < due[mark]:
                    early.append(f"{platform} {mark} {due[mark] - post.created_at:.2f} s early")
    return seen, early


def _key(d: Any) -> tuple[str, str]:
    return (d.platform, _mark(d.draft.get("title"), d.draft.get("link")) or "")
