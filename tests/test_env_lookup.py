"""Which `.env` is read (`--env-file`, else beside the config, else `./.env`), and a missing
secret's error naming the files looked in: the rule docs/webhooks.md's newcomer guesses."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import run

from distributor.config import load_config
from distributor.errors import ConfigError

CHANNEL = '[channels.m]\nplatform = "mastodon"\naccess_token_env = "TOKEN"\n'


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config in site/, the working folder work/ (both without a .env yet)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.delenv("DISTRIBUTOR_WEBHOOK_SECRET", raising=False)
    path = tmp_path / "site" / "distributor.toml"
    path.write_text(CHANNEL, encoding="utf-8")
    return path


def test_working_folder_env_is_read_when_none_is_beside_the_config(site: Path) -> None:
    Path(".env").write_text("TOKEN=from-cwd\n", encoding="utf-8")
    settings = load_config(site, environ={})
    assert settings.secret("TOKEN").reveal() == "from-cwd"
    assert settings.env_source.read == Path(".env").absolute()


def test_env_beside_the_config_wins_over_the_working_folder(site: Path) -> None:
    Path(".env").write_text("TOKEN=from-cwd\n", encoding="utf-8")
    (site.parent / ".env").write_text("TOKEN=beside\n", encoding="utf-8")
    assert load_config(site, environ={}).secret("TOKEN").reveal() == "beside"


def test_env_file_option_wins_and_only_one_file_is_read(site: Path) -> None:
    Path(".env").write_text("TOKEN=from-cwd\nOTHER=cwd-only\n", encoding="utf-8")
    chosen = site.parent / "prod.env"
    chosen.write_text("TOKEN=chosen\n", encoding="utf-8")
    settings = load_config(site, env_file=chosen, environ={})
    assert settings.secret("TOKEN").reveal() == "chosen"
    assert "OTHER" not in settings.env  # never a merge of two files


def test_builtin_config_reads_the_working_folder_env(site: Path) -> None:
    Path(".env").write_text("DISTRIBUTOR_WEBHOOK_SECRET=whsec_x\n", encoding="utf-8")
    settings = load_config(None, environ={})  # no ./distributor.toml: the packaged example
    assert settings.env.get("DISTRIBUTOR_WEBHOOK_SECRET") == "whsec_x"


def test_missing_secret_names_every_file_looked_in(site: Path) -> None:
    settings = load_config(site, environ={})
    with pytest.raises(ConfigError) as info:
        settings.secret("TOKEN", channel="m", key="access_token_env")
    message = str(info.value)
    assert "TOKEN is not set" in message
    assert str(site.parent / ".env") in message and str(Path(".env").absolute()) in message
    Path(".env").write_text("OTHER=1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"looked in the environment and .*work/\.env"):
        load_config(site, environ={}).secret("TOKEN", channel="m", key="access_token_env")


def test_hook_send_without_a_secret_says_where_it_looked(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("a.json").write_text('{"url": "https://news.example/a"}', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(site), "hook", "sign", "a.json")
    assert code == 2
    assert err.startswith("error: no webhook secret") and err.count("\n") == 1
    assert str(site.parent / ".env") in err and str(Path(".env").absolute()) in err


def test_serve_without_a_webhook_secret_says_where_it_looked(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from distributor.web.app import create_app

    site.write_text(f'[distributor]\ndatabase = "sqlite:///{site.parent / "s.db"}"\n' + CHANNEL)
    app = create_app(load_config(site, environ={}))
    app.state.web.store.close()
    [warning] = [r.getMessage() for r in caplog.records if "webhook disabled" in r.getMessage()]
    assert str(site.parent / ".env") in warning and str(Path(".env").absolute()) in warning
