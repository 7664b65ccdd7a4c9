"""The sandbox configuration the shared `sandbox_settings` fixture (tests/conftest.py) loads:
one channel per platform, and fixed, recognisable fake secrets, so tests can assert that none
of them ever reaches a log line, an exception or the console.

The channels below are the ones tests name; a platform without one here (a new row in
`distributor.platform.BUILTIN`) gets `<platform>_main`, built from its channel in
examples/distributor.toml (its options and credential variables), and a fake secret per variable:
every sandbox test covers a new platform without this file being edited."""

from __future__ import annotations

import json
import tomllib

from locations import REPO

from distributor.platform import BUILTIN

_SECRETS: dict[str, str] = {
    "X_CONSUMER_KEY": "xck-SECRET-7f3a9c1e5b",
    "X_CONSUMER_SECRET": "xcs-SECRET-2d8e4f6a0c9b7d5e3f1a",
    "X_ACCESS_TOKEN": "1234567890-xat-SECRET-9b8c7d6e5f",
    "X_ACCESS_TOKEN_SECRET": "xats-SECRET-4c3b2a1f0e9d8c7b",
    "FACEBOOK_PAGE_TOKEN": "EAAfbSECRETpagetoken0123456789abcdef",
    "MASTODON_ACCESS_TOKEN": "mastodon-SECRET-token-a1b2c3d4e5",
    "BLUESKY_APP_PASSWORD": "abcd-SECR-ETpw-wxyz",
    "TELEGRAM_BOT_TOKEN": "123456789:AAF-telegramSECRETtoken0123456789ab",
    "LINKEDIN_ACCESS_TOKEN": "AQV-linkedin-SECRET-token-0123456789",
    "THREADS_ACCESS_TOKEN": "THQ-threads-SECRET-token-0123456789",
    "INSTAGRAM_ACCESS_TOKEN": "IGQ-instagram-SECRET-token-0123456789",
    "PINTEREST_ACCESS_TOKEN": "pina_pinterest-SECRET-token-0123456789",
}

_HEADER = """
[distributor]
sandbox = "{url}"
"""
_CHANNELS = """
[channels.x_main]
platform = "x"
consumer_key_env = "X_CONSUMER_KEY"
consumer_secret_env = "X_CONSUMER_SECRET"
access_token_env = "X_ACCESS_TOKEN"
access_token_secret_env = "X_ACCESS_TOKEN_SECRET"

[channels.facebook_page]
platform = "facebook"
page_id = "104857600000001"
page_token_env = "FACEBOOK_PAGE_TOKEN"

[channels.mastodon_main]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"

[channels.bluesky_main]
platform = "bluesky"
handle = "news.example.com"
app_password_env = "BLUESKY_APP_PASSWORD"

[channels.telegram_channel]
platform = "telegram"
chat_id = "@distributor_news"
bot_token_env = "TELEGRAM_BOT_TOKEN"

[channels.linkedin_org]
platform = "linkedin"
author = "urn:li:organization:5515715"
access_token_env = "LINKEDIN_ACCESS_TOKEN"

[channels.threads_main]
platform = "threads"
user_id = "17841400000000001"
access_token_env = "THREADS_ACCESS_TOKEN"

[channels.instagram_main]
platform = "instagram"
ig_user_id = "17841400000000002"
access_token_env = "INSTAGRAM_ACCESS_TOKEN"
link_hint = "Link in der Bio"

[channels.pinterest_board]
platform = "pinterest"
board_id = "549755885175"
access_token_env = "PINTEREST_ACCESS_TOKEN"
"""


def generated_channels(listed: set[str]) -> str:
    """A channel for each built-in platform that `_CHANNELS` lacks, from its example channel."""
    example = tomllib.loads((REPO / "examples" / "distributor.toml").read_text("utf-8"))
    tables = list(example["channels"].values())
    out = []
    for name in sorted(set(BUILTIN) - listed):
        row = BUILTIN[name]
        [table, *_] = [t for t in tables if t.get("platform") == name]
        keys = ("platform", *row.required_options, *row.optional_options)
        keys += tuple(f"{role}_env" for role in row.credentials + row.optional_credentials)
        lines = [f"{key} = {json.dumps(table[key])}" for key in keys if key in table]
        out.append(f"\n[channels.{name}_main]\n" + "\n".join(lines) + "\n")
    return "".join(out).replace("{", "{{").replace("}", "}}")  # CONFIG is a format string


_LISTED = {table["platform"] for table in tomllib.loads(_CHANNELS)["channels"].values()}
CONFIG = _HEADER + _CHANNELS + generated_channels(_LISTED)
_VARS = [var for row in BUILTIN.values() for var in row.env_vars]
SECRETS = _SECRETS | {v: f"{v.lower()}-SECRET-token-0123456789" for v in _VARS if v not in _SECRETS}
CHANNEL_OF: dict[str, str] = {  # the platform -> the channel of it that tests post to
    table["platform"]: name for name, table in tomllib.loads(CONFIG)["channels"].items()
}
