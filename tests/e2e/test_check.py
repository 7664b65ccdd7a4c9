"""`distributor check` against the sandbox: verdicts, exit codes, JSON, and no secrets at DEBUG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from distributor.cli import cli

SECRETS = {
    "TG_TOKEN": "6123456789:AAFcheckTokenValue_abcdefghijklmnopqrs",
    "LI_TOKEN": "AQVlinkedinSecretAccessTokenValue123",
    "TH_TOKEN": "THQVthreadsSecretAccessTokenValue456",
}


@pytest.fixture
def config(sandbox: Any, tmp_path: Path) -> Path:
    path = tmp_path / "distributor.toml"
    path.write_text(
        f"""
[distributor]
sandbox = "{sandbox.url}"

[channels.tg]
platform = "telegram"
bot_token_env = "TG_TOKEN"
chat_id = "@sandbox_news"

[channels.li]
platform = "linkedin"
access_token_env = "LI_TOKEN"
author = "urn:li:organization:4242"

[channels.th]
platform = "threads"
access_token_env = "TH_TOKEN"
user_id = "777"
""",
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in SECRETS.items()), encoding="utf-8"
    )
    return path


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--config", str(config), "--log-level", "DEBUG", "check", *args]
    )


def test_all_channels_ok_as_json(config: Path) -> None:
    result = run(config, "--json")
    assert result.exit_code == 0, result.output
    rows = {r["channel"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"tg", "li", "th"}
    assert all(r["ok"] for r in rows.values())
    assert rows["li"]["account"] == "Sandbox News"
    assert rows["th"]["url"] == "https://www.threads.net/@distributor.sandbox"
    assert rows["tg"]["account_id"].startswith("-100")


def test_a_failing_channel_exits_1_and_leaks_nothing(sandbox: Any, config: Path) -> None:
    sandbox.faults.add(platform="telegram", route="verify", kind="error", status=401, count=10)
    sandbox.faults.add(platform="threads", route="verify", kind="reset", count=10)
    table = run(config)
    assert table.exit_code == 1
    assert "AuthFailed" in table.output and "OK" in table.output
    as_json = run(config, "--json")
    assert as_json.exit_code == 1
    rows = {r["channel"]: r for r in json.loads(as_json.stdout)}
    assert (rows["tg"]["ok"], rows["tg"]["error_class"], rows["tg"]["error"]) == (
        False,
        "AuthFailed",
        "Unauthorized",
    )
    assert rows["th"]["error_class"] in ("NotSent", "MaybeSent")
    assert rows["li"]["ok"] is True
    for secret in SECRETS.values():
        for out in (table.output, as_json.output):
            assert secret not in out
            assert secret[12:30] not in out


def test_only_named_channels(config: Path, sandbox: Any) -> None:
    result = run(config, "--channel", "li", "--json")
    assert result.exit_code == 0
    assert [r["channel"] for r in json.loads(result.stdout)] == ["li"]
    assert {r["path"] for r in sandbox.requests("linkedin")} == {"/rest/organizations/4242"}
    assert sandbox.requests("telegram") == []


def test_unknown_channel_is_a_config_error(config: Path) -> None:
    result = run(config, "--channel", "nope")
    assert result.exit_code != 0
    assert "no channel named 'nope'" in str(result.exception or result.output)


def test_deactivated_or_suspended_accounts_fail_with_a_clear_line(
    sandbox: Any, tmp_path: Path
) -> None:
    """Credentials that still log in are not enough: Bluesky's getSession says `active: false`
    with a `status`, Mastodon's Account says `suspended: true`; check reads both and fails."""
    path = tmp_path / "accounts.toml"
    path.write_text(
        f"""
[distributor]
sandbox = "{sandbox.url}"

[channels.bsky]
platform = "bluesky"
handle = "gone.example.com"
app_password_env = "BSKY_PW"

[channels.masto]
platform = "mastodon"
access_token_env = "MASTO_TOKEN"
""",
        encoding="utf-8",
    )
    env = "BSKY_PW=abcd-efgh-ijkl-mnop\nMASTO_TOKEN=masto-token-of-a-suspended-account\n"
    (tmp_path / ".env").write_text(env, encoding="utf-8")
    rows = {r["channel"]: r for r in json.loads(run(path, "--json").stdout)}
    assert rows["bsky"]["ok"] is True and rows["masto"]["ok"] is False
    assert "suspended" in rows["masto"]["error"] and rows["masto"]["error_class"] == "AuthFailed"
    sandbox.state.kv["bluesky"].setdefault("deactivated", set()).add("gone.example.com")
    table = run(path)
    assert table.exit_code == 1
    rows = {r["channel"]: r for r in json.loads(run(path, "--json").stdout)}
    assert rows["bsky"]["ok"] is False and rows["bsky"]["error_class"] == "AuthFailed"
    assert "@gone.example.com is deactivated" in rows["bsky"]["error"]
    assert "deactivated" in table.output and "OK" not in table.output


def test_check_keeps_the_account_names_in_an_existing_post_log(config: Path) -> None:
    from distributor.store import open_store

    db = f"sqlite:///{config.parent / 'log.db'}"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[distributor]\n", f'[distributor]\ndatabase = "{db}"\n'))
    assert run(config).exit_code == 0  # no post log yet: nothing is created
    assert not (config.parent / "log.db").exists()
    open_store(db).close()
    assert run(config).exit_code == 0
    store = open_store(db)
    try:
        names = {k: a.handle for k, a in store.accounts().items()}
        urls = {k: a.profile_url for k, a in store.accounts().items()}
    finally:
        store.close()
    assert "Sandbox News" in names.values()
    assert "https://www.threads.net/@distributor.sandbox" in urls.values()
    assert not any(v and "TOKEN" in v for v in names.values())
