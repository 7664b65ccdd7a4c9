"""Adapter sessions read the environment once (proxies, CA bundle), not on every request."""

from __future__ import annotations

import pytest

from distributor.platforms.http import new_session, sandbox_session


def test_a_platform_session_keeps_the_proxy_and_ca_bundle_it_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.newsroom.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/newsroom-ca.pem")
    s = new_session("https://mastodon.social")
    assert s.trust_env is False  # no per-request environment (or .netrc) look-ups
    assert s.proxies.get("https") == "http://proxy.newsroom.internal:3128"
    assert s.verify == "/etc/ssl/newsroom-ca.pem"


def test_no_proxy_is_respected_for_the_api_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.newsroom.internal:3128")
    monkeypatch.setenv("NO_PROXY", "mastodon.social")
    assert not new_session("https://mastodon.social").proxies


def test_the_sandbox_session_never_uses_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.newsroom.internal:3128")
    s = sandbox_session("http://127.0.0.1:8900")
    assert s.trust_env is False and not s.proxies
