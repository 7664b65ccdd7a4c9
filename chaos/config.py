"""The soak's configuration: one channel per platform, every one pointed at the sandbox."""

from __future__ import annotations

# platform -> (channel name, its keys); credentials come from the soak's fake environment
_CHANNELS: dict[str, tuple[str, dict[str, str]]] = {
    "x": (
        "x_main",
        {
            "consumer_key_env": "X_CONSUMER_KEY",
            "consumer_secret_env": "X_CONSUMER_SECRET",
            "access_token_env": "X_ACCESS_TOKEN",
            "access_token_secret_env": "X_ACCESS_TOKEN_SECRET",
        },
    ),
    "facebook": (
        "facebook_page",
        {"page_id": "104857600000001", "page_token_env": "FACEBOOK_PAGE_TOKEN"},
    ),
    # spacing on one channel: kills and retries must keep it (and lose nothing)
    "mastodon": (
        "mastodon_main",
        {"access_token_env": "MASTODON_ACCESS_TOKEN", "min_gap": "0.2s"},
    ),
    "bluesky": (
        "bluesky_main",
        {"handle": "news.example.com", "app_password_env": "BLUESKY_APP_PASSWORD"},
    ),
    "telegram": (
        "telegram_channel",
        {"chat_id": "@distributor_news", "bot_token_env": "TELEGRAM_BOT_TOKEN"},
    ),
    "linkedin": (
        "linkedin_org",
        {"author": "urn:li:organization:5515715", "access_token_env": "LINKEDIN_ACCESS_TOKEN"},
    ),
    "threads": (
        "threads_main",
        {"user_id": "17841400000000001", "access_token_env": "THREADS_ACCESS_TOKEN"},
    ),
}
CHANNELS = {platform: name for platform, (name, _) in _CHANNELS.items()}


def config_text(sandbox_url: str) -> str:
    """`distributor.toml` text for a sandbox at `sandbox_url`."""
    lines = ["[distributor]", f'sandbox = "{sandbox_url}"', ""]
    for platform, (name, keys) in _CHANNELS.items():
        lines += [f"[channels.{name}]", f'platform = "{platform}"']
        lines += [f'{key} = "{value}"' for key, value in keys.items()]
        lines += ['utm = { source = "chaos", medium = "social" }', ""]
    return "\n".join(lines)
