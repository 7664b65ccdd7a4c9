"""`distributor reauth --json` against the sandbox: one object per channel, exit 1 while the
platform still refuses the credentials, the account released once they work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from distributor.cli import cli
from distributor.config import Settings
from distributor.store import open_store


def test_reauth_json(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'reauth.db'}"
    telegram = sandbox_settings.channel("telegram_channel")
    store = open_store(db)
    try:
        store.mark_reauth(telegram.account_key, "AuthFailed: 401")
        args = ["--config", str(sandbox_settings.path), "reauth", "telegram_channel"]
        args += ["mastodon_main", "--database", db, "--as", "oncall", "--json"]
        sandbox.faults.add(platform="telegram", route="verify", kind="error", status=401, count=1)
        refused = CliRunner().invoke(cli, args, env=sandbox_secrets)
        assert refused.exit_code == 1 and refused.stderr == ""
        tg, masto = json.loads(refused.stdout)
        assert (tg["channel"], tg["ok"], tg["was_waiting"]) == ("telegram_channel", False, True)
        assert tg["error"] and tg["verified_as"] is None and tg["by"] == "oncall"
        assert (masto["ok"], masto["was_waiting"], masto["error"]) == (True, False, None)
        assert store.reauth_accounts()  # still held
        done = CliRunner().invoke(cli, args, env=sandbox_secrets)
        assert done.exit_code == 0, done.output
        tg, _ = json.loads(done.stdout)
        assert tg["ok"] is True and tg["account"] == telegram.account_key and tg["verified_as"]
        assert store.reauth_accounts() == {}
        assert not any(s in done.output for s in sandbox_secrets.values())
    finally:
        store.close()
