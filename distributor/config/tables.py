"""The optional tables of distributor.toml, validated at load into frozen settings.

    [dispatch]  retries, lease, pacing, reconcile and shutdown timing   -> Policy
    [watch]     feeds, allowed hosts, poll interval and fetch limits    -> WatchSettings
    [webhook]   secret variable names, tolerance, body cap, URL fetch   -> WebhookSettings
    [admin]     accounts (variable names), token, session secret        -> AdminSettings
    [alerts]    targets, thresholds, check and reminder intervals       -> AlertSettings
    [links]     tracking parameters posted links lose or keep           -> links.LinkPolicy
    [hashtags]  tags that never become hashtags                         -> hashtag keys

Only variable NAMES of secrets are read here; their values are looked up in the environment
by the feature that needs them (the webhook, the admin UI, the alert sender), so a command that
does not use a feature never fails for that feature's missing secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from distributor.config.values import (
    Err,
    Rate,
    check_keys,
    flag,
    parse_duration,
    parse_rate,
    parse_size,
    strings,
    table_err,
    var_name,
)
from distributor.hashtags import hashtag
from distributor.links import LinkPolicy
from distributor.secrets import Secret
from distributor.sources.files import MAX_FETCH_BYTES
from distributor.sources.hosts import HostPolicy

if TYPE_CHECKING:
    from distributor.fetch import Rules

SESSION_SECRET_ENV = "DISTRIBUTOR_SESSION_SECRET"
WEBHOOK_SECRET_ENV = ("DISTRIBUTOR_WEBHOOK_SECRET", "DISTRIBUTOR_WEBHOOK_SECRET_OLD")
FAILURE_RATE = Rate(10, 900.0)  # failed tries (and, apart, 429s) per channel per window
_HOST = re.compile(r"(\*|(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?|\[?[0-9a-f:.]+\]?)", re.I)
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclass(frozen=True, slots=True)
class Policy:
    """`[dispatch]`: the retry policy for NotSent and the worker's lease and pacing limits."""

    attempts: int = 4  # tries per claim for NotSent (connect errors), tenacity-bounded
    backoff: float = 1.0  # first wait, seconds; doubles per try, with jitter
    max_backoff: float = 30.0  # longest single wait
    budget: float = 60.0  # total seconds of retrying per claim
    jitter: float = 1.0  # up to this many seconds added to each wait
    give_up_after: int = 10  # NotSent attempts in all claims before the delivery fails
    lease: float = 300.0  # seconds a claim is leased (renewed before every try)
    pace_limit: float = 10.0  # wait in the worker for a rate slot at most this long, else defer
    reconcile_every: float = 60.0  # `distributor worker` reconciles this often (0: at start)
    shutdown_grace: float = 30.0  # on SIGTERM, in-flight sends get this long, then exit

    def reschedule_after(self, attempts: int) -> float:
        """Seconds before a delivery whose NotSent tries ran out in one claim is due again."""
        return float(min(3600.0, self.max_backoff * 2 ** max(0, attempts // self.attempts)))


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """`[watch]`: which feeds, from which hosts, how often and how much."""

    feeds: tuple[str, ...] = ()
    interval: float = 120.0
    timeout: float = 30.0
    max_bytes: int = MAX_FETCH_BYTES
    max_new: int = 20
    hosts: HostPolicy = field(default_factory=HostPolicy)

    def rules(self) -> Rules:
        """The fetch guard's rules for feeds and pages fetched under this table."""
        from distributor.fetch import Rules

        return Rules(self.hosts, deadline=self.timeout, max_bytes=self.max_bytes)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """`[webhook]`: the names of the signing-secret variables (first = current) and limits."""

    secrets_env: tuple[str, ...] = WEBHOOK_SECRET_ENV
    tolerance: float = 300.0  # how far webhook-timestamp may be from the server's clock
    max_body: int = 1_000_000
    fetch: bool = True  # accept {"url": ...}, fetched under the [watch] host rules


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """`[admin]`: who may log in (user -> variable holding an argon2 hash) and sessions."""

    users: Mapping[str, str] = field(default_factory=dict)
    token_env: str | None = None
    session_secret_env: str = SESSION_SECRET_ENV
    session_seconds: int = 12 * 3600
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    timezone: str | None = None  # the pages' time zone; None: [distributor] timezone


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """`[alerts]`: where incidents go and when something counts as one."""

    targets: tuple[Secret, ...] = ()  # URLs written in the TOML (never with a password)
    targets_env: tuple[str, ...] = ()  # variables holding more URLs (with their secrets)
    admin_url: str = ""
    stuck_after: float = 900.0
    failure_rate: Rate = FAILURE_RATE
    heartbeat_timeout: float = 60.0
    remind_every: float = 4 * 3600.0
    check_every: float = 30.0
    forget_workers_after: float = 86400.0


def parse_dispatch(raw: Mapping[str, Any], where: str) -> Policy:
    err = table_err(where, "dispatch")
    known = {f.name: f for f in fields(Policy)}
    check_keys(raw, known, err)
    for key, value in raw.items():
        want_int = known[key].type in ("int", int)
        ok = isinstance(value, int if want_int else (int, float)) and not isinstance(value, bool)
        if not ok or value < (1 if want_int else 0):
            raise err(key, "must be " + ("a positive integer" if want_int else "seconds >= 0"))
    return Policy(**raw)


def parse_watch(raw: Mapping[str, Any], where: str) -> WatchSettings:
    err = table_err(where, "watch")
    keys = ("feeds", "allow_hosts", "allow_private", "interval", "timeout", "max_size", "max_new")
    check_keys(raw, keys, err)
    private = flag(raw.get("allow_private", False), err, "allow_private")
    return WatchSettings(
        feeds=strings(raw.get("feeds"), err, "feeds"),
        interval=_seconds(raw.get("interval", 120), "interval", err, minimum=1.0),
        timeout=_seconds(raw.get("timeout", 30), "timeout", err, minimum=0.1),
        max_bytes=parse_size(raw.get("max_size", MAX_FETCH_BYTES), err, "max_size"),
        max_new=_count(raw.get("max_new", 20), "max_new", err),
        hosts=HostPolicy(_hosts(raw.get("allow_hosts"), err), allow_private=private),
    )


def parse_webhook(raw: Mapping[str, Any], where: str) -> WebhookSettings:
    err = table_err(where, "webhook")
    check_keys(raw, ("secrets_env", "tolerance", "max_body", "fetch"), err)
    names = strings(raw.get("secrets_env", list(WEBHOOK_SECRET_ENV)), err, "secrets_env")
    if not names:
        raise err("secrets_env", "must be a list of environment variable names")
    tolerance = parse_duration(raw.get("tolerance", 300), err, "tolerance")
    if not 1 <= tolerance <= 3600:
        raise err("tolerance", "must be between 1s and 1h")
    return WebhookSettings(
        secrets_env=tuple(var_name(n, err, "secrets_env") for n in names),
        tolerance=tolerance,
        max_body=parse_size(raw.get("max_body", 1_000_000), err, "max_body"),
        fetch=flag(raw.get("fetch", True), err, "fetch"),
    )


def parse_admin(raw: Mapping[str, Any], where: str) -> AdminSettings:
    err = table_err(where, "admin")
    keys = ("users", "token_env", "session_secret_env", "session_hours", "secure_cookies")
    check_keys(raw, (*keys, "timezone"), err)
    hours = raw.get("session_hours", 12)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
        raise err("session_hours", "must be a number in (0, 720]")
    secure = raw.get("secure_cookies", "auto")
    if isinstance(secure, bool):
        secure = "always" if secure else "never"
    if secure not in ("auto", "always", "never"):
        raise err("secure_cookies", "must be auto, always or never")
    token = raw.get("token_env")
    return AdminSettings(
        users=_users(raw.get("users", {}), err),
        token_env=var_name(token, err, "token_env") if token is not None else None,
        session_secret_env=var_name(
            raw.get("session_secret_env", SESSION_SECRET_ENV), err, "session_secret_env"
        ),
        session_seconds=int(hours * 3600),
        secure_cookies=secure,
        timezone=_zone(raw["timezone"], err) if "timezone" in raw else None,
    )


def _zone(value: object, err: Err) -> str:
    """`[admin] timezone`: an IANA name, checked now so a typo fails at start-up."""
    from distributor.errors import ConfigError
    from distributor.schedule.rules import zone

    if not isinstance(value, str) or not value.strip():
        raise err("timezone", "must be a time zone name like Europe/Berlin")
    try:
        zone(value.strip())
    except ConfigError as exc:
        raise err("timezone", str(exc)) from None
    return value.strip()


def parse_alerts(raw: Mapping[str, Any], where: str) -> AlertSettings:
    err = table_err(where, "alerts")
    durations = [
        "stuck_after",
        "heartbeat_timeout",
        "remind_every",
        "check_every",
        "forget_workers_after",
    ]
    check_keys(raw, {"targets", "targets_env", "admin_url", "failure_rate", *durations}, err)
    admin = raw.get("admin_url", "")
    if not isinstance(admin, str):
        raise err("admin_url", "must be a URL string")
    defaults = AlertSettings()
    envs = strings(raw.get("targets_env"), err, "targets_env")
    return AlertSettings(
        targets=_plain_targets(raw.get("targets"), err),
        targets_env=tuple(var_name(v, err, "targets_env") for v in envs),
        admin_url=admin.strip(),
        failure_rate=parse_rate(raw["failure_rate"], err, "failure_rate")
        if "failure_rate" in raw
        else FAILURE_RATE,
        **{k: parse_duration(raw.get(k, getattr(defaults, k)), err, k) for k in durations},
    )


def _plain_targets(value: Any, err: Err) -> tuple[Secret, ...]:
    """URLs written in the TOML: refused when they carry a password (use targets_env)."""
    out = []
    for i, url in enumerate(strings(value, err, "targets")):
        try:
            has_password = urlsplit(url).password is not None
        except ValueError:
            has_password = False
        if has_password:
            raise err(
                "targets",
                f"entry {i + 1} has a password in it; put the URL in an environment variable "
                "and name it in targets_env",
            )
        out.append(Secret(url, f"alerts.targets[{i + 1}]"))
    return tuple(out)


def _users(raw: Any, err: Err) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise err("users", 'must be a table like { alice = "VAR" }')
    for name in raw:
        if not _USER.fullmatch(name):
            raise err(f"users.{name}", "user names are letters, digits, _.@-")
    return {name: var_name(value, err, f"users.{name}") for name, value in raw.items()}


def _hosts(value: Any, err: Err) -> tuple[str, ...]:
    hosts = strings(value, err, "allow_hosts")
    for host in hosts:
        if "/" in host or not _HOST.fullmatch(host):
            raise err(
                "allow_hosts",
                f"{host!r} is not a host name (write www.example.de or *.example.de, not a URL)",
            )
    return tuple(h.strip("[]").lower() for h in hosts)


def _seconds(value: Any, key: str, err: Err, *, minimum: float) -> float:
    seconds = parse_duration(value, err, key)
    if seconds < minimum:
        raise err(key, f"must be at least {minimum:g} s")
    return seconds


def _count(value: Any, key: str, err: Err) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise err(key, "must be a whole number >= 0")
    return value


def parse_links(raw: Mapping[str, Any], where: str) -> LinkPolicy:
    """`[links]`: `strip` more tracking parameters, `keep` the ones the CMS needs."""
    err = table_err(where, "links")
    check_keys(raw, ("strip", "keep"), err)
    names = {k: _listed(raw.get(k), err, k, '["fbclid"]') for k in ("strip", "keep")}
    return LinkPolicy(**{k: frozenset(v.lower() for v in vs) for k, vs in names.items()})


def parse_hashtags(raw: Mapping[str, Any], where: str) -> frozenset[str]:
    """`[hashtags] stop`: added to the built-in list, as hashtag keys (`ukrainekrieg`)."""
    err = table_err(where, "hashtags")
    check_keys(raw, ("stop",), err)
    stop = _listed(raw.get("stop"), err, "stop", '["Panorama"]')
    return frozenset((hashtag(v) or "#" + v).lstrip("#").casefold() for v in stop)


def _listed(value: Any, err: Err, key: str, example: str) -> tuple[str, ...]:
    """A list of names (a lone string is refused: `strip = "a, b"` would be one odd name)."""
    if value is not None and not isinstance(value, list):
        raise err(key, f"must be a list like {example}")
    return strings(value, err, key)
