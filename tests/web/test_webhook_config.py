"""The `[webhook]` table: defaults, and one clear line naming file and key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from hook_helpers import KEY, OLD_KEY, hook_settings_for

from distributor.errors import ConfigError
from distributor.web.hook_settings import hook_settings


def test_defaults_read_both_secrets_current_first(tmp_path: Path) -> None:
    settings = hook_settings_for(tmp_path)
    conf, table = hook_settings(settings), settings.webhook
    assert conf.keys == (KEY, OLD_KEY)
    assert (table.tolerance, table.max_body, table.fetch) == (300.0, 1_000_000, True)
    assert KEY not in repr(conf).encode()


def test_named_variables_sizes_and_unset_old_secret(tmp_path: Path) -> None:
    extra = '[webhook]\nsecrets_env = ["CMS_HOOK"]\nmax_body = "64 KiB"\ntolerance = "2m"\n'
    settings = hook_settings_for(tmp_path, extra, CMS_HOOK="whsec_" + "b2xkb2xkb2xkb2xkb2xkb2xk")
    conf = hook_settings(settings)
    assert conf.names == ("CMS_HOOK",) and conf.keys == (b"oldoldoldoldoldold",)
    assert (settings.webhook.max_body, settings.webhook.tolerance) == (65536, 120.0)


@pytest.mark.parametrize(
    ("extra", "env", "expected"),
    [
        ("secrets_env = 3", {}, "[webhook] key 'secrets_env'"),
        (
            'secrets_env = ["not a name"]',
            {},
            "'secrets_env': must be the name of an environment variable",
        ),
        ('max_body = "big"', {}, "[webhook] key 'max_body': not a size"),
        ('tolerance = "2d"', {}, "[webhook] key 'tolerance': must be between"),
        ("fetch = 1", {}, "[webhook] key 'fetch'"),
        (
            "secret = 'whsec_x'",
            {},
            "[webhook] key 'secret': unknown key (did you mean 'secrets_env'?)",
        ),
        ("", {"DISTRIBUTOR_WEBHOOK_SECRET": "hunter2"}, "WEBHOOK_SECRET: not a webhook secret"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(
    tmp_path: Path, extra: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as exc:  # the table at load, the secrets when read
        hook_settings(hook_settings_for(tmp_path, f"[webhook]\n{extra}\n", **env))
    message = str(exc.value)
    assert expected in message and str(tmp_path / "distributor.toml") in message
    assert "\n" not in message and "hunter2" not in message
