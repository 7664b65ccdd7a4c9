"""The Bluesky emulator answers as the reference PDS did: every recorded exchange, replayed.

`tests/interop/pds_answers.json` holds what `@atproto/pds` answered (status, error code and
message, body keys, the headers clients read); `make interop` checks that recording against
the real PDS. Here the same requests go to the sandbox and must be summarised identically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from interop.exchanges import EXCHANGES, LIMITED, Target, recorded, run_all

from distributor.sandbox import Sandbox
from distributor.sandbox.bluesky import did_for

APP_PASSWORD = "abcd-efgh-ijkl-mnop"  # the shape of a real app password


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(port=0, platforms=["bluesky"]) as sandbox:
        yield sandbox


def _target(box: Sandbox, handle: str) -> Target:
    base = f"{box.url}/bluesky"
    return Target(base, handle, APP_PASSWORD, did_for("other.test"), "account-password-1")


def _differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    return [
        f"{name}: emulator {got.get(name)!r}, PDS {want[name]!r}"
        for name in sorted(want)
        if got.get(name) != want[name]
    ]


@pytest.mark.parametrize("name", list(EXCHANGES))
def test_exchange_matches_the_pds(box: Sandbox, name: str) -> None:
    box.reset()
    target = _target(box, "fidelity.test")
    # the exchanges before this one, as recorded (deactivation is stateful)
    order = list(EXCHANGES)
    before = {n: EXCHANGES[n] for n in order[: order.index(name)] if "deactivat" in n}
    run_all(target, before)
    got = run_all(target, {name: EXCHANGES[name]})[name]
    assert _differences(got, recorded()[name]) == []


def test_rate_limited_login_matches_the_pds(box: Sandbox) -> None:
    box.reset()
    box.set_limit("bluesky", "session", 30, 300)  # the PDS's createSession limit
    got = run_all(_target(box, "limited.test"), LIMITED)
    want = recorded()
    assert {n: _differences(got[n], want[n]) for n in LIMITED} == {n: [] for n in LIMITED}


def test_every_recorded_exchange_is_replayed() -> None:
    assert set(recorded()) == set(EXCHANGES) | set(LIMITED)


def _vectors(name: str) -> list[str]:
    from locations import reference

    path = reference("bluesky", "interop-tests", f"syntax_language_syntax_{name}.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_langs_checked_as_the_atproto_syntax_vectors_say() -> None:
    from distributor.sandbox.bluesky_records import valid_language

    valid, invalid = _vectors("valid"), _vectors("invalid")
    assert [t for t in valid if not valid_language(t)] == []
    assert [t for t in invalid if valid_language(t)] == []


def test_check_fails_for_a_deactivated_account_on_the_emulator(box: Sandbox, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from distributor.cli import cli

    box.reset()
    config = tmp_path / "distributor.toml"
    config.write_text(
        f'[distributor]\nsandbox = "{box.url}"\n\n[channels.bsky]\nplatform = "bluesky"\n'
        'handle = "gone.test"\napp_password_env = "BSKY_APP_PASSWORD"\n',
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(f"BSKY_APP_PASSWORD={APP_PASSWORD}\n", encoding="utf-8")
    target = _target(box, "gone.test")
    assert run_all(target, {"deactivate": EXCHANGES["deactivate"]})["deactivate"]["status"] == 200
    result = CliRunner().invoke(cli, ["--config", str(config), "check", "--json"])
    assert result.exit_code == 1, result.output
    [row] = json.loads(result.stdout)
    assert row["error_class"] == "AuthFailed" and "@gone.test is deactivated" in row["error"]
