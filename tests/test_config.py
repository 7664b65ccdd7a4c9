"""distributor.toml + .env: validation messages, .env rules, secrets that never show."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from locations import REPO

from distributor.config import TABLES, load_config, parse_duration, parse_rate
from distributor.errors import ConfigError
from distributor.platform import BUILTIN
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
    assert {c.platform for c in settings.channels} == set(BUILTIN)
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
        ('platform = "x"\ntags = [1, 2]' + X_CREDS, "c1", "tags", "list of non-empty strings"),
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


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[dispach]\nlease = 60", "unknown table [dispach] (did you mean [dispatch]?)"),
        ("[alert]\ncheck_every = '1m'", "unknown table [alert] (did you mean [alerts]?)"),
        ("[colours]\nred = 1", "unknown table [colours] (known: [admin], [alerts], "),
        ('database = "sqlite:///x.db"', "unknown table [database] (known: "),
        ("[distributor]\ntimezon = 'UTC'", "[distributor] key 'timezon': unknown key (did you "),
        ("[dispatch]\nleese = 60", "[dispatch] key 'leese': unknown key (did you mean 'lease'?)"),
        ("[watch]\nintervall = '1m'", "[watch] key 'intervall': unknown key (did you mean 'in"),
        ("[admin]\nuser = {}", "[admin] key 'user': unknown key (did you mean 'users'?)"),
        (
            "[webhook]\nmax_bdy = 10",
            "[webhook] key 'max_bdy': unknown key (did you mean 'max_body'?)",
        ),
        ("[alerts]\ntarget = []", "[alerts] key 'target': unknown key (did you mean 'targets'?)"),
        ("[links]\nstirp = []", "[links] key 'stirp': unknown key (did you mean 'strip'?)"),
        ("[hashtags]\nstops = []", "[hashtags] key 'stops': unknown key (did you mean 'stop'?)"),
        ("[dispatch]\nlease = '5m'", "[dispatch] key 'lease': must be seconds >= 0"),
        ("[dispatch]\nattempts = 1.5", "[dispatch] key 'attempts': must be a positive integer"),
        ("[watch]\nmax_new = 'many'", "[watch] key 'max_new': must be a whole number >= 0"),
        ("[admin]\nsession_hours = true", "[admin] key 'session_hours': must be a number"),
        ("[admin]\ntoken_env = 'not a var'", "[admin] key 'token_env': must be the name of"),
        ("[alerts]\nadmin_url = 5", "[alerts] key 'admin_url': must be a URL string"),
        ("[alerts]\nfailure_rate = 'lots'", "[alerts] key 'failure_rate': not a rate: 'lots'"),
        ("watch = 5", "[watch] must be a table"),
        ("[distributor]\ndatabase = 5", "[distributor] key 'database': must be a non-empty"),
        ("[distributor]\ndatabase_pool = 0", "[distributor] key 'database_pool': must be a whole"),
        ("[distributor]\ndatabase_pool = true", "key 'database_pool': must be a whole number"),
    ],
)
def test_every_table_is_checked_at_load(tmp_path: Path, text: str, problem: str) -> None:
    """Unknown tables and keys, near misses and wrong types: one line, file and key, at load."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert problem in message


def test_channel_key_near_misses_are_suggested(tmp_path: Path) -> None:
    body = '[channels.b]\nplatform = "bluesky"\nhandle = "a.example"\napp_password_env = "P"\n'
    path = write(tmp_path, body + "exclude_section = ['Sport']\n")
    with pytest.raises(ConfigError, match=r"key 'exclude_section': unknown key \(did you mean "):
        load_config(path, environ={})
    write(tmp_path, body + "app_pasword_env = 'P'\n")
    with pytest.raises(ConfigError, match=r"did you mean 'app_password_env'\?"):
        load_config(path, environ={})
    write(tmp_path, body + "embedd = 'images'\n")  # a platform option, from the spec
    with pytest.raises(ConfigError, match=r"key 'embedd': unknown key \(did you mean 'embed'\?"):
        load_config(path, environ={})


def test_tables_become_typed_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[dispatch]\nlease = 60\n[watch]\nallow_hosts = ['www.example.de']\ninterval = '5m'\n"
        "[webhook]\nsecrets_env = ['HOOK']\n[admin]\nusers = { alice = 'ALICE_HASH' }\n"
        "[alerts]\nstuck_after = '20m'\ntargets_env = ['ALERT_URL']\n",
    )
    settings = load_config(path, environ={})  # no secret is read yet: none is needed to load
    assert settings.dispatch.lease == 60 and settings.dispatch.attempts == 4
    assert settings.watch.interval == 300 and settings.watch.hosts.allow_hosts == (
        "www.example.de",
    )
    assert settings.webhook.secrets_env == ("HOOK",)
    assert dict(settings.admin.users) == {"alice": "ALICE_HASH"}
    assert settings.alerts.stuck_after == 1200 and settings.alerts.targets_env == ("ALERT_URL",)
    defaults = load_config(write(tmp_path, "[channels]\n"), environ={})
    assert defaults.dispatch.lease == 300 and defaults.watch.feeds == ()


DOC_PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_configuration_in_the_docs_uses_known_tables_and_keys(page: Path, tmp_path: Path) -> None:
    """Every TOML example loads; a fragment may leave out a required key, never misspell one."""
    for n, block in enumerate(TOML_BLOCK.findall(page.read_text(encoding="utf-8"))):
        path = write(tmp_path, block, f"block{n}.toml")
        try:
            load_config(path, environ={})
        except ConfigError as exc:
            assert str(exc).endswith(": missing"), f"{page.name} block {n + 1}: {exc}"


def test_known_tables_are_documented() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [t for t in sorted(TABLES) if f"[{t}" not in text] == []
