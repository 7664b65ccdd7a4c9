"""Alerts: tell the on-call people once per incident, record every incident in the store.

    from distributor.alerts import check
    report = check(settings, store, clock)     # the worker runs this every `check_every`

`checks` finds what is wrong now (incidents with keys), the store opens an incident once per key
across all workers and says who notifies, `notify` sends through Apprise. An incident resolves
when its condition is gone; if it comes back it is a new incident and alerts again. While it
stays open, a reminder goes out every `remind_every`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from distributor.alerts.checks import KINDS, Incident, incidents
from distributor.alerts.config import alert_targets
from distributor.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from distributor.config import AlertSettings, Settings
    from distributor.secrets import Secret
    from distributor.store.alerts import Alert
    from distributor.store.store import Store

__all__ = ["CheckReport", "Incident", "alert_targets", "check", "message"]
log = logging.getLogger("distributor.alerts")
Notifier = Callable[["Sequence[Secret]", str, str], tuple[bool, str]]


@dataclass
class CheckReport:
    open: list[Incident] = field(default_factory=list)
    notified: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def message(incident: Incident, conf: AlertSettings, reminder: bool) -> tuple[str, str]:
    """The title and body of the notification about `incident`."""
    title = f"[distributor] {'still open: ' if reminder else ''}{incident.summary}"
    lines = [incident.summary, "", incident.detail] if incident.detail else [incident.summary]
    lines += ["", f"incident: {incident.key}"]
    if conf.admin_url:
        lines.append(f"admin: {conf.admin_url}")
    return title, "\n".join(lines)


def check(
    settings: Settings, store: Store, clock: Clock = SYSTEM, *, notify: Notifier | None = None
) -> CheckReport:
    """Find incidents, alert about new ones (and due reminders), resolve the gone ones."""
    from distributor.alerts.notify import send

    conf, targets = settings.alerts, alert_targets(settings)
    now = clock.now()
    report = CheckReport(open=incidents(conf, settings, store, now))
    for inc in report.open:
        alert = store.raise_alert(
            inc.key, inc.kind, inc.summary, remind_after=conf.remind_every or None, now=now
        )
        if alert is None:
            continue
        title, body = message(inc, conf, reminder=alert.notifications > 0)
        ok, result = (notify or send)(targets, title, body)
        store.alert_notified(alert.id, ok, result)
        level = logging.WARNING if ok else logging.ERROR
        log.log(level, "alert %s: %s (%s)", inc.key, inc.summary, result, extra=_ctx(inc))
        report.notified.append(alert)
    keep = {i.key for i in report.open}
    report.resolved = store.resolve_alerts(keep, KINDS, now=now)
    for alert in report.resolved:
        log.info("alert %s resolved", alert.key, extra={"ctx": {"alert": alert.key}})
    return report


def _ctx(inc: Incident) -> dict[str, dict[str, str]]:
    return {"ctx": {"alert": inc.key, "alert_kind": inc.kind}}
