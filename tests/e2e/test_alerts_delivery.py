"""Alerts end to end: real deliveries go wrong against the sandbox, `alerts.check` tells a real
SMTP server (aiosmtpd, with login), a JSON webhook (a local HTTP server) and Telegram (the
sandbox), through Apprise.

Once per incident: two unknown deliveries on one channel are one e-mail; after the incident
resolved, a new unknown delivery is a second one. No secret (SMTP password, platform tokens)
ever reaches a message. Telegram alerts go through Apprise's real `tgram://` plugin to the
sandbox's Bot API; Apprise has no setting for another host, so that test re-points the plugin's
API address (a class attribute) at the sandbox.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from locations import REPO

from distributor import alerts
from distributor.config import Settings, load_config
from distributor.planning import publish
from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
SMTP_PASSWORD = "smtp-PASS-9x8y7z6w"
ADMIN = "https://distributor.example.org/admin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd handler: keeps every message; the authenticator checks the password."""

    def __init__(self) -> None:
        self.mails: list[Any] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: Any, auth: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        ok = auth.login == b"alerts" and auth.password == SMTP_PASSWORD.encode()
        self.logins.append(f"{mechanism}:{ok}")
        return AuthResult(success=ok)

    def texts(self) -> list[str]:
        return [
            f"{m['subject']}\n{m.get_body(preferencelist=('plain',)).get_content()}"
            for m in self.mails
        ]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), _free_port()
    server = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box, auth_require_tls=False
    )
    server.start()
    try:
        yield box, port
    finally:
        server.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    got: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            got.append({"path": self.path, **json.loads(self.rfile.read(size))})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _settings(base: Settings, secrets: dict[str, str], smtp: int, hook: int) -> Settings:
    assert base.path is not None
    with base.path.open("a", encoding="utf-8") as f:
        f.write(
            f'\n[alerts]\ntargets = ["json://127.0.0.1:{hook}/alerts"]\n'
            'targets_env = ["ALERT_SMTP_URL"]\n'
            f'admin_url = "{ADMIN}"\nremind_every = "0"\n'
        )
    url = (
        f"mailto://alerts:{SMTP_PASSWORD}@127.0.0.1:{smtp}"
        "?from=distributor@example.org&to=oncall@example.org"
    )
    return load_config(base.path, environ={**secrets, "ALERT_SMTP_URL": url})


def _unknown_on_telegram(settings: Settings, store: Store, sandbox: Any, n: int) -> None:
    """`n` new articles whose Telegram send loses its answer: outcome unknown (held)."""
    for i in range(n):
        sandbox.faults.add(platform="telegram", route="create", kind="lost", mode="504", count=1)
        article = json.loads(ARTICLE.read_text(encoding="utf-8"))
        article["url"] = f"https://news.example/alerts/{id(store)}-{len(store.query()[0])}-{i}"
        report = publish(
            _article(article),
            config=settings,
            channels=["telegram_channel"],
            wait=True,
            store=store,
        )
        assert [d.state for d in report.outcomes] == [State.UNKNOWN]


def _article(data: dict[str, Any]) -> Any:
    from distributor.article import Article

    return Article.from_dict(data)


def test_unknown_deliveries_alert_once_per_incident_by_mail_and_webhook(
    sandbox: Any,
    sandbox_settings: Settings,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    webhook: tuple[list[dict[str, Any]], int],
) -> None:
    box, smtp = mailbox
    posts, hook = webhook
    settings = _settings(sandbox_settings, sandbox_secrets, smtp, hook)
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    try:
        _unknown_on_telegram(settings, store, sandbox, 2)
        first = alerts.check(settings, store)
        assert [a.key for a in first.notified] == ["unknown:telegram_channel"]
        assert len(box.mails) == 1 and len(posts) == 1
        assert box.logins and all(x.endswith(":True") for x in box.logins)
        mail = box.texts()[0]
        assert "2 delivery(ies) on telegram_channel have an unknown outcome" in mail
        assert ADMIN in mail and "unknown:telegram_channel" in mail
        assert posts[0]["path"] == "/alerts" and ADMIN in posts[0]["message"]
        assert "telegram_channel" in posts[0]["title"]

        assert alerts.check(settings, store).notified == []  # still the same incident
        assert len(box.mails) == 1 and len(posts) == 1

        for d in store.unknown():  # a person decides: the incident is over
            store.transition(d.id, State.CANCELLED, actor="test", reason="checked by hand")
        assert [a.key for a in alerts.check(settings, store).resolved] == [
            "unknown:telegram_channel"
        ]
        _unknown_on_telegram(settings, store, sandbox, 1)  # it happens again: a new incident
        assert len(alerts.check(settings, store).notified) == 1
        assert len(box.mails) == 2 and len(posts) == 2
        assert "1 delivery(ies) on telegram_channel" in box.texts()[1]

        recorded = store.alerts()
        assert [a.notifications for a in recorded] == [1, 1]
        assert all(a.notify_ok and "ALERT_SMTP_URL" in a.result for a in recorded)
        everything = "\n".join(
            [*box.texts(), json.dumps(posts), *(a.result + a.summary for a in recorded)]
        )
        for secret in [SMTP_PASSWORD, *sandbox_secrets.values()]:
            assert secret not in everything
    finally:
        store.close()


def test_refused_credentials_alert_reauth_and_a_dead_target_is_retried(
    sandbox: Any,
    sandbox_settings: Settings,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
    webhook: tuple[list[dict[str, Any]], int],
) -> None:
    posts, hook = webhook
    dead = _free_port()  # nothing listens here: the e-mail target fails
    settings = _settings(sandbox_settings, sandbox_secrets, dead, hook)
    sandbox.faults.add(platform="telegram", route="create", kind="error", status=401, count=1)
    store = open_store(f"sqlite:///{tmp_path / 'reauth.db'}")
    try:
        report = publish(
            str(ARTICLE), config=settings, channels=["telegram_channel"], wait=True, store=store
        )
        assert [d.state for d in report.outcomes] == [State.FAILED]
        got = alerts.check(settings, store)
        [alert] = got.notified
        assert alert.key.startswith("reauth:telegram") and alert.kind == "reauth"
        assert "telegram_channel" in posts[0]["message"] and ADMIN in posts[0]["message"]
        [row] = store.alerts()
        assert row.notify_ok is False and "FAILED" in row.result  # the mail did not go out
        assert SMTP_PASSWORD not in row.result
        assert store.claim("w", lease_seconds=60) == []  # nothing goes to a re-auth account
        # New credentials: `distributor reauth` verifies them and lets the account send again.
        from click.testing import CliRunner

        from distributor.cli import cli

        args = ["--config", str(settings.path), "reauth", "telegram_channel"]
        db = ["--database", f"sqlite:///{tmp_path / 'reauth.db'}"]
        env = {**sandbox_secrets, "ALERT_SMTP_URL": "json://127.0.0.1:9/x"}
        sandbox.faults.add(platform="telegram", route="verify", kind="error", status=401, count=1)
        refused = CliRunner().invoke(cli, [*args, *db], env=env)
        assert refused.exit_code == 1 and "still refused" in refused.output
        assert store.reauth_accounts()
        done = CliRunner().invoke(cli, [*args, *db, "--as", "oncall"], env=env)
        assert done.exit_code == 0 and "can send again" in done.output, done.output
        assert store.reauth_accounts() == {}
        assert [a.key for a in alerts.check(settings, store).resolved] == [alert.key]
    finally:
        store.close()


def test_telegram_alert_reaches_the_sandbox_bot_api(
    sandbox: Any,
    sandbox_settings: Settings,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Apprise's real Telegram plugin against the sandbox's Bot API. Apprise has no setting
    for another host, so the test points the plugin's API address at the sandbox."""
    from apprise.plugins.telegram import NotifyTelegram

    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{sandbox.url}/telegram/bot")
    token = sandbox_secrets["TELEGRAM_BOT_TOKEN"]
    assert sandbox_settings.path is not None
    with sandbox_settings.path.open("a", encoding="utf-8") as f:
        f.write(f'\n[alerts]\ntargets_env = ["ALERT_CHAT_URL"]\nadmin_url = "{ADMIN}"\n')
    env = {**sandbox_secrets, "ALERT_CHAT_URL": f"tgram://{token}/@distributor_news"}
    settings = load_config(sandbox_settings.path, environ=env)
    store = open_store(f"sqlite:///{tmp_path / 'tg.db'}")
    try:
        _unknown_on_telegram(settings, store, sandbox, 1)
        before = len(sandbox.posts("telegram"))
        assert len(alerts.check(settings, store).notified) == 1
        [row] = store.alerts()
        assert row.notify_ok, row.result
    finally:
        store.close()
    posts = sandbox.posts("telegram")[before:]
    assert len(posts) == 1 and "unknown outcome" in posts[0].text and ADMIN in posts[0].text
    assert token not in row.result and "ALERT_CHAT_URL" in row.result
