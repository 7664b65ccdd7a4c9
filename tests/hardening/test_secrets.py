"""No secret in any output: realistic fake credentials for every platform, DEBUG logging (tweepy
and urllib3 too), every failure path driven through the sandbox (401, 429, 5xx, resets before
and after the platform stored the post, proxy HTML pages), then the logs, exception texts, the
post log (attempt details, events, last errors) and CLI output are scanned for each secret value
and for the token shapes `distributor.redact` knows."""

from __future__ import annotations

import io
import logging
import random
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox_helpers import CONFIG

from distributor import logs
from distributor.article import Article, Image
from distributor.config import Settings, load_config
from distributor.dispatch import Dispatcher
from distributor.planning import publish
from distributor.platform import BUILTIN
from distributor.redact import MASK, TOKEN_PATTERNS
from distributor.sandbox import Sandbox
from distributor.store import open_store

_rng = random.Random(1)
_ALNUM = string.ascii_letters + string.digits


def _r(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


# Shapes as the platforms issue them (lengths and prefixes), values made up; a platform not
# listed gets a long random token per credential variable, so it is scanned all the same.
_SHAPES = {
    "X_CONSUMER_KEY": _r(25),
    "X_CONSUMER_SECRET": _r(50),
    "X_ACCESS_TOKEN": f"1467{_r(15, string.digits)}-{_r(40)}",
    "X_ACCESS_TOKEN_SECRET": _r(45),
    "FACEBOOK_PAGE_TOKEN": "EAAB" + _r(180),
    "MASTODON_ACCESS_TOKEN": _r(43, _ALNUM + "-_"),
    "BLUESKY_APP_PASSWORD": "-".join(_r(4, string.ascii_lowercase) for _ in range(4)),
    "TELEGRAM_BOT_TOKEN": f"{_r(10, string.digits)}:AA{_r(33, _ALNUM + '-_')}",
    "LINKEDIN_ACCESS_TOKEN": "AQV" + _r(300, _ALNUM + "-_"),
    "THREADS_ACCESS_TOKEN": "THAA" + _r(200),
    "INSTAGRAM_ACCESS_TOKEN": "IGQ" + _r(180),
    "PINTEREST_ACCESS_TOKEN": "pina_" + _r(100),
}
SECRETS = {var: _SHAPES.get(var) or _r(64) for row in BUILTIN.values() for var in row.env_vars}
SHORT_RESETS = ("x", "facebook", "mastodon", "bluesky", "telegram")
# One round per failure; 401 last: it marks every account for re-authentication.
ROUNDS: list[list[dict[str, object]]] = [
    [],
    # 429 where the platform states a short reset (LinkedIn resets at midnight, Threads in 60 s)
    [{"platform": p, "kind": "rate_limit", "seconds": 1, "count": 1} for p in SHORT_RESETS],
    [{"kind": "error", "status": 503, "count": 7}],
    [{"kind": "error", "status": 502, "error": "html", "count": 7}],
    [{"kind": "reset", "count": 7}],
    [{"kind": "lost", "mode": "reset", "count": 7}],
    [{"kind": "lost", "mode": "504", "count": 7}],
    [{"kind": "error", "status": 401, "count": 7}],
]
FAST = "\n[dispatch]\nattempts = 2\nbackoff = 0.01\nmax_backoff = 0.05\njitter = 0\nbudget = 1\n"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    logs.setup("DEBUG", stream=stream)
    for noisy in ("tweepy", "urllib3", "requests_oauthlib", "oauthlib", "facebook"):
        logging.getLogger(noisy).setLevel(logging.DEBUG)  # the worst case: everything logs
    yield stream
    for handler in [h for h in root.handlers if h not in before[1]]:
        root.removeHandler(handler)
    root.setLevel(before[0])
    logs._quiet_noisy()


def leaks(text: str) -> list[str]:
    found = [name for name, value in SECRETS.items() if value in text]
    for pattern in TOKEN_PATTERNS:  # a masked value (`oauth_token="***"`) is no leak
        found += [m for m in re.findall(pattern, text) if m.strip('"') != MASK]
    return found


def test_no_secret_anywhere_on_every_failure_path(
    sandbox: Sandbox, tmp_path: Path, captured: io.StringIO
) -> None:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(url=sandbox.url) + FAST, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 's.db'}"
    settings: Settings = load_config(path, environ={**SECRETS, "DISTRIBUTOR_DATABASE_URL": db})
    store = open_store(db)
    texts: list[str] = [repr(settings), str(settings)]
    try:
        for n, rules in enumerate(ROUNDS):
            sandbox.faults.clear()
            for rule in rules:
                sandbox.faults.add(**rule)
            image = Image(url=f"https://news.example/s/{n}.jpg")  # Instagram, Pinterest need one
            article = Article(url=f"https://news.example/s/{n}", title=f"Meldung {n}", image=image)
            report = publish(article, config=settings, store=store)
            ids = [d.id for p in report.plans for d in p.created]
            assert len(ids) == len(settings.channels)
            done = Dispatcher(settings, store).wait_for(ids, timeout=8, poll=0.05)
            texts += [repr(d) for d in done]
        states = {
            store.get(i).state.value for i in range(1, len(ROUNDS) * len(settings.channels) + 1)
        }
        assert {"sent", "failed", "unknown"} <= states | {"retry_wait"}, states
        for delivery_id in range(1, len(ROUNDS) * len(settings.channels) + 1):
            d = store.get(delivery_id)
            texts += [str(d.last_error), *(f"{a.detail} {a.error_kind}" for a in d.history)]
        texts += [str(e) for e in store.events(limit=10_000)]
    finally:
        store.close()
    from distributor.cli import cli

    runner = CliRunner()
    env = {**SECRETS, "DISTRIBUTOR_DATABASE_URL": db}
    for args in (["log", "--json"], ["audit", "--json"], ["show", "1"], ["status"], ["check"]):
        result = runner.invoke(cli, ["-c", str(path), *args], env=env)
        texts.append(result.output + repr(result.exception))
    log_text = captured.getvalue()
    assert "DEBUG" in log_text and len(log_text) > 10_000  # the debug firehose really ran
    assert "/telegram/bot***/" in log_text  # urllib3 logged the token URL, masked
    assert leaks(f"GET /bot{SECRETS['TELEGRAM_BOT_TOKEN']}/x") != []  # the scan can see one
    found = leaks(log_text) + leaks("\n".join(texts))
    assert found == [], found


def test_no_secret_in_web_pages_or_answers(sandbox: Sandbox, tmp_path: Path) -> None:
    """Admin pages of failed deliveries, the webhook's refusals, /healthz, /metrics: no platform
    credential, webhook secret, admin token, session secret or password shows."""
    import base64

    from admin_helpers import PASSWORD, SECRET, TOKEN, admin_settings
    from fastapi.testclient import TestClient

    from distributor.web.app import create_app

    webhook = "whsec_" + base64.b64encode(_r(32).encode()).decode()
    db = f"sqlite:///{tmp_path / 'w.db'}"
    conf = admin_settings(tmp_path, sandbox.url, db, DISTRIBUTOR_WEBHOOK_SECRET=webhook, **SECRETS)
    store = open_store(db)
    texts: list[str] = []
    try:
        for n, rules in enumerate(
            [
                [{"kind": "lost", "mode": "504", "count": 3}],
                [{"kind": "error", "status": 401, "count": 3}],
            ]
        ):
            sandbox.faults.clear()
            for rule in rules:
                sandbox.faults.add(**rule)
            article = Article(url=f"https://news.example/w/{n}", title=f"Web {n}")
            ids = [
                d.id for p in publish(article, config=conf, store=store).plans for d in p.created
            ]
            Dispatcher(conf, store).wait_for(ids, timeout=5, poll=0.05)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with TestClient(create_app(conf, store=store)) as client:
            pages = ["/admin/", "/admin/login", "/healthz", "/metrics", "/openapi.json"]
            page, _ = store.query(limit=100)
            pages += [f"/admin/deliveries/{d.id}" for d in page]
            pages += [f"/admin/articles/{a}" for a in {d.article_id for d in page}]
            for url in pages:
                response = client.get(url, headers=auth)
                assert response.status_code == 200, (url, response.status_code)
                texts.append(response.text)
            refused = client.post("/hooks/articles", content=b"{}", headers={"webhook-id": "x"})
            texts.append(refused.text)
    finally:
        store.close()
    errors = [d.last_error for d in page if d.last_error]
    assert errors and any("unauthor" in e.lower() or "401" in e for e in errors), errors
    everything = "\n".join(texts)
    for name, value in {
        "token": TOKEN,
        "session": SECRET,
        "password": PASSWORD,
        "webhook": webhook,
    }.items():
        assert value not in everything, name
    assert leaks(everything) == []
