"""distributor.toml + .env: validation messages, .env rules, secrets that never show."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from locations import REPO

from distributor.config import load_config, parse_duration, parse_rate
from distributor.errors import ConfigError
from distributor.secrets import Secret

X_CREDS = """
consumer_key_env = "XK"
consumer_secret_env = "XS"
access_token_env = "XT"
access_token_secret_env = "XTS"
"""


def write(tmp_path: Path, text: str, name: str = "distributor.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    settings = load_config(REPO / "examples" / "distributor.toml", environ={})
    assert {c.platform for c in settings.channels} == {
        "x", "facebook", "mastodon", "bluesky", "telegram", "linkedin", "threads"
    }  # fmt: skip
    assert settings.sandbox_url == "http://127.0.0.1:8900"
    x = settings.channel("x-news")
    assert x.utm["utm_source"] == "twitter" and x.rate is not None and x.rate.count == 50
    # In the sandbox, missing credentials become harmless placeholders.
    assert set(settings.credentials(x)) == {
        "consumer_key", "consumer_secret", "access_token", "access_token_secret"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "channel", "key", "problem"),
    [
        ('platform = "x"\nfoo = 1' + X_CREDS, "c1", "foo", "unknown key"),
        ("template = 'x'", "c1", "platform", "missing"),
        ('platform = "myspace"', "c1", "platform", "unknown platform 'myspace'"),
        ('platform = "x"\nconsumer_key_env = "XK"', "c1", "consumer_secret_env", "missing"),
        ('platform = "x"\nrate = "lots"' + X_CREDS, "c1", "rate", "not a rate"),
        ('platform = "x"\ndelay = "soon"' + X_CREDS, "c1", "delay", "not a duration"),
        ('platform = "x"\nlimit = 0' + X_CREDS, "c1", "limit", "positive integer"),
        ('platform = "x"\nutm = { source = [1] }' + X_CREDS, "c1", "utm.source", "string"),
        ('platform = "x"\nreview = "yes"' + X_CREDS, "c1", "review", "true or false"),
        ('platform = "x"\ntags = [1, 2]' + X_CREDS, "c1", "tags", "list of strings"),
        ('platform = "bluesky"\napp_password_env = "P"', "c1", "handle", "missing"),
        (
            'platform = "telegram"\nchat_id = "@c"\nbot_token_env = "bad name"',
            "c1",
            "bot_token_env",
            "name of an environment variable",
        ),
        ('platform = "x"\npassword_env = "P"' + X_CREDS, "c1", "password_env", "no credential"),
    ],
)
def test_errors_name_file_channel_and_key(
    tmp_path: Path, body: str, channel: str, key: str, problem: str
) -> None:
    path = write(tmp_path, f"[channels.{channel}]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: channel {channel!r} key {key!r}: "), message
    assert problem in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[channels", "not valid TOML"),
        ('channels = "x"', "[channels] must be a table"),
        ('[channels."bad name!"]\nplatform = "x"', "channel name 'bad name!'"),
        ("[distributor]\nsandbox = 5\n[channels]", "'sandbox' must be a URL"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)) as info:
        load_config(path, environ={})
    assert problem in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")


def test_dotenv_next_to_config_and_real_env_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "[channels.x1]\nplatform = 'x'\n" + X_CREDS)
    write(tmp_path, "XK=from-file\nXS=file-secret\n", ".env")
    settings = load_config(path, environ={"XK": "from-env"})
    assert settings.secret("XK").reveal() == "from-env"
    assert settings.secret("XS").reveal() == "file-secret"


def test_explicit_env_file_and_missing_env_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[channels]\n")
    other = write(tmp_path, "TOKEN=explicit\n", "secrets/prod.env")
    assert load_config(path, env_file=other, environ={}).secret("TOKEN").reveal() == "explicit"
    with pytest.raises(ConfigError, match=r"missing\.env: no such \.env file"):
        load_config(path, env_file=tmp_path / "missing.env", environ={})


def test_no_dotenv_from_parent_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "TOKEN=parent\n", ".env")
    path = write(tmp_path, "[channels]\n", "site/distributor.toml")
    monkeypatch.chdir(write(tmp_path, "", "elsewhere/x").parent)
    settings = load_config(path, environ={})
    assert "TOKEN" not in settings.env
    with pytest.raises(ConfigError, match="environment variable TOKEN is not set"):
        settings.secret("TOKEN", channel="c", key="token_env")


def test_secrets_never_show(tmp_path: Path) -> None:
    path = write(tmp_path, "[channels]\n")
    write(tmp_path, "TOKEN=hunter2-very-secret\n", ".env")
    settings = load_config(path, environ={})
    secret = settings.secret("TOKEN")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r:>40}", repr(settings)):
        assert "hunter2" not in shown
    assert "TOKEN" in repr(secret)
    assert secret.reveal() == "hunter2-very-secret"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert Secret("a", "A") == Secret("a", "B") and Secret("a") != Secret("b")


def test_secret_with_line_break_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[channels]\n")
    settings = load_config(path, environ={"TOKEN": "abc\ndef"})
    with pytest.raises(ConfigError, match="contains a line break") as info:
        settings.secret("TOKEN")
    assert "abc" not in str(info.value)


def test_durations_and_rates() -> None:
    assert (
        parse_duration("10m") == 600 and parse_duration(30) == 30 and parse_duration("1h") == 3600
    )
    assert parse_rate("50/15min").per == 900 and parse_rate("20/min").count == 20
    with pytest.raises(ConfigError):
        parse_rate("0/min")
