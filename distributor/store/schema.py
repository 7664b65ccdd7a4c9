"""The post-log tables (SQLAlchemy Core). Times are UTC epoch seconds as doubles."""

from __future__ import annotations

from typing import Any


def build() -> Any:
    """Return (metadata, tables) — built lazily so importing the store stays cheap."""
    import sqlalchemy as sa

    md = sa.MetaData()
    ts = sa.Float
    sa.Table(
        "schema_version",
        md,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("applied_at", ts, nullable=False),
    )
    sa.Table(
        "articles",
        md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("guid", sa.Text),
        sa.Column("title", sa.Text, nullable=False, default=""),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("first_seen", ts, nullable=False),
        sa.Column("source", sa.Text, nullable=False, default=""),
    )
    sa.Table(
        "article_keys",
        md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.id"), nullable=False),
    )
    d = sa.Table(
        "deliveries",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.id"), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(50), nullable=False),
        sa.Column("account_key", sa.String(300), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, default=0),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("draft", sa.JSON, nullable=False),
        sa.Column("idem_key", sa.Text, nullable=False),
        sa.Column("not_before", ts),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", ts),
        sa.Column("fence", sa.Integer, nullable=False, default=0),
        sa.Column("remote_id", sa.Text),
        sa.Column("remote_url", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("error_kind", sa.String(50)),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("sent_at", ts),
        # migration 5: scheduling (docs/scheduling.md)
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("embargo_until", ts),
        sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("article_id", "channel", "generation", name="uq_delivery"),
    )
    sa.Index("ix_deliveries_due", d.c.state, d.c.not_before)
    # migration 6: the claim's queue order, only over claimable rows (store/claim.py)
    claimable = sa.text("state IN ('queued', 'retry_wait')")
    sa.Index(
        "ix_deliveries_claim",
        d.c.priority.desc(),
        d.c.created_at,
        d.c.id,
        sqlite_where=claimable,
        postgresql_where=claimable,
    )
    sa.Index("ix_deliveries_state_created", d.c.state, d.c.created_at, d.c.id)
    sa.Index("ix_deliveries_channel_created", d.c.channel, d.c.created_at, d.c.id)
    sa.Index("ix_deliveries_created", d.c.created_at, d.c.id)
    sa.Index("ix_deliveries_article", d.c.article_id)
    a = sa.Table(
        "attempts",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("started_at", ts, nullable=False),
        sa.Column("finished_at", ts, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error_kind", sa.String(50)),
        sa.Column("detail", sa.Text, nullable=False, default=""),
        sa.Column("remote_id", sa.Text),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("worker", sa.Text, nullable=False, default=""),
    )
    sa.Index("ix_attempts_delivery", a.c.delivery_id, a.c.n)
    e = sa.Table(
        "events",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", ts, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("article_id", sa.String(32)),
        sa.Column("detail", sa.Text, nullable=False, default=""),
    )
    sa.Index("ix_events_at", e.c.at)
    # migration 9: the admin home page lists articles newest first, a page at a time
    sa.Index(
        "ix_articles_first_seen", md.tables["articles"].c.first_seen, md.tables["articles"].c.id
    )
    sa.Table(
        "accounts",
        md,
        sa.Column("account_key", sa.String(300), primary_key=True),
        sa.Column("send_times", sa.JSON, nullable=False),  # reserved slots, sliding window
        sa.Column("blocked_until", ts),
        sa.Column("block_reason", sa.Text),
        sa.Column("needs_reauth", sa.Boolean, nullable=False, default=False),
        sa.Column("reauth_reason", sa.Text),
        # migration 9: who the credentials belong to, as `distributor check` last saw it
        sa.Column("handle", sa.Text),
        sa.Column("profile_url", sa.Text),
        sa.Column("checked_at", ts),
    )
    sa.Table(
        "controls",
        md,
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Boolean, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", ts, nullable=False),
    )
    sa.Table(
        "webhook_ids",
        md,
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("seen_at", ts, nullable=False),
        sa.Column("response", sa.JSON),  # the 202 answer, repeated to a replay (migration 4)
    )
    sa.Table(
        "workers",
        md,
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("heartbeat_at", ts, nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.Text),
        sa.Column("stopped_at", ts),  # migration 2: a clean stop (not a silent worker)
    )
    alerts(md)
    feeds(md)
    gaps(md)
    sessions(md)
    admin_sessions(md)
    return md


def gaps(md: Any) -> Any:
    """Spacing per channel (migration 5): the last reserved send slot and when the next may
    be claimed (`min_gap` later), shared by every worker like the accounts' rate window."""
    import sqlalchemy as sa

    return sa.Table(
        "channel_gaps",
        md,
        sa.Column("channel", sa.String(200), primary_key=True),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
    )


def alerts(md: Any) -> Any:
    """Alert incidents (migration 2): one open row per incident key, notified once (plus
    reminders); `distributor.alerts` decides when an incident opens or resolves."""
    import sqlalchemy as sa

    t = sa.Table(
        "alerts",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("summary", sa.Text, nullable=False, default=""),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("notified_at", sa.Float),  # the last notification attempt
        sa.Column("notify_ok", sa.Boolean),  # its result (None: none tried yet)
        sa.Column("notifications", sa.Integer, nullable=False, default=0),
        sa.Column("result", sa.Text, nullable=False, default=""),
    )
    # At most one OPEN incident per key, across every worker (the de-duplication).
    open_only = t.c.resolved_at.is_(None)
    sa.Index(
        "uq_alerts_open_key",
        t.c.key,
        unique=True,
        sqlite_where=open_only,
        postgresql_where=open_only,
    )
    sa.Index("ix_alerts_opened", t.c.opened_at)
    return t


def feeds(md: Any) -> Any:
    """Watched feeds (migration 3): validators for conditional GET and poll counters."""
    import sqlalchemy as sa

    return sa.Table(
        "feeds",
        md,
        sa.Column("url", sa.String(2048), primary_key=True),  # URL or absolute file path
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_polled", sa.Float),
        sa.Column("last_status", sa.String(40), nullable=False, default=""),
        sa.Column("last_error", sa.Text),
        sa.Column("seen_count", sa.Integer, nullable=False, default=0),
        sa.Column("new_count", sa.Integer, nullable=False, default=0),
        sa.Column("polls", sa.Integer, nullable=False, default=0),
        sa.Column("failures", sa.Integer, nullable=False, default=0),
        sa.Column("baseline_at", sa.Float),
    )


def sessions(md: Any) -> Any:
    """Platform login sessions shared by processes (migration 7; see store/sessions.py)."""
    import sqlalchemy as sa

    return sa.Table(
        "sessions",
        md,
        sa.Column("key", sa.String(600), primary_key=True),  # account key @ API host
        sa.Column("data", sa.Text, nullable=False),  # JSON: the session's tokens (secrets)
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def admin_sessions(md: Any) -> Any:
    """Admin UI sign-ins (migration 8; see store/admin_sessions.py)."""
    import sqlalchemy as sa

    t = sa.Table(
        "admin_sessions",
        md,
        sa.Column("key", sa.String(64), primary_key=True),  # sha256 of the cookie's session id
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )
    sa.Index("ix_admin_sessions_expires", t.c.expires_at)
    return t
