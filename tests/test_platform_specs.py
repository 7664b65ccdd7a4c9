"""Every platform is complete: each row of `distributor.platform.BUILTIN` has everything a
platform needs, so adding one cannot forget a piece (and a piece cannot outlive its platform).

Per spec: a length rule that counts, an adapter class that reads this very spec, German and
English templates, a sandbox emulator serving the example request, a channel in the example
configuration, a docs page, and its credential variables in `.env.example`.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from locations import REPO
from platform_helpers import LINK_SHOWN
from sandbox_helpers import CHANNEL_OF, SECRETS, generated_channels

from distributor import limits
from distributor.config import load_config
from distributor.errors import ConfigError
from distributor.platform import BUILTIN, PlatformSpec, load
from distributor.sandbox.emulator import Emulator
from distributor.sandbox.state import SandboxState

SPECS = sorted(BUILTIN.values(), key=lambda s: s.name)
PLACEHOLDER = re.compile(r"\{[^}]*\}|<[^>]*>")


def by_name(row: PlatformSpec) -> str:
    return row.name


@pytest.mark.parametrize("row", SPECS, ids=by_name)
def test_length_rule_counts(row: PlatformSpec) -> None:
    assert limits.counter(row.counter)("Hallo") == 5
    assert limits.length(row.name, "") == 0
    assert row.limits.text > 0 and limits.limit_for(row.name) == row.limits.text


@pytest.mark.parametrize("row", SPECS, ids=by_name)
def test_adapter_reads_this_spec(row: PlatformSpec) -> None:
    cls = load(row.adapter)
    assert cls.spec is row, f"{row.adapter} must read its facts from BUILTIN[{row.name!r}]"
    for method in ("publish", "lookup", "delete", "verify"):
        assert callable(getattr(cls, method))
    for method in ("publish", "lookup"):  # dispatch and reconcile pass the delivery's key and time
        params = inspect.signature(getattr(cls, method)).parameters
        assert {"key", "when"} <= set(params), f"{cls.__name__}.{method} must take key= and when="


@pytest.mark.parametrize("row", SPECS, ids=by_name)
@pytest.mark.parametrize("language", ["de", "en"])
def test_templates_in_german_and_english(row: PlatformSpec, language: str) -> None:
    path = REPO / "templates" / f"{row.name}.{language}.{row.text_format}.j2"
    assert path.is_file(), f"missing {path.relative_to(REPO)}"


@pytest.mark.parametrize("row", SPECS, ids=by_name)
def test_emulator_serves_the_example_request(row: PlatformSpec) -> None:
    emulator = load(row.emulator)(SandboxState())
    assert isinstance(emulator, Emulator) and emulator.platform == row.name
    method, _, path = row.example.partition(" ")
    path = PLACEHOLDER.sub("1", path)
    routes = [r for r in emulator.routes() if r.method == method]
    assert any(re.fullmatch(r.pattern, path) for r in routes), f"no route for {row.example!r}"


def test_every_platform_has_a_channel_in_the_example_configuration() -> None:
    data = tomllib.loads((REPO / "examples" / "distributor.toml").read_text("utf-8"))
    used = {table.get("platform") for table in data["channels"].values()}
    assert set(BUILTIN) <= used, f"no example channel for {sorted(set(BUILTIN) - used)}"


def test_the_sandbox_configuration_of_the_tests_has_every_platform(tmp_path: Path) -> None:
    assert set(CHANNEL_OF) == set(BUILTIN) and set(LINK_SHOWN) <= set(BUILTIN)
    # what a platform without a hand-written test channel gets: its example channel, usable
    path = tmp_path / "sandbox.toml"
    path.write_text(
        '[distributor]\nsandbox = "http://127.0.0.1:9"\n' + generated_channels(set()).format()
    )
    channels = load_config(path, environ=SECRETS).channels
    assert sorted(c.platform for c in channels) == sorted(BUILTIN)


@pytest.mark.parametrize("row", SPECS, ids=by_name)
def test_docs_page(row: PlatformSpec) -> None:
    page = REPO / row.docs
    assert row.docs == f"docs/platforms/{row.name}.md" and page.is_file()
    text = page.read_text("utf-8")
    for option in row.required_options:
        assert option in text, f"{row.docs} does not explain the required option {option!r}"


@pytest.mark.parametrize("row", SPECS, ids=by_name)
def test_credential_variables_in_env_example(row: PlatformSpec) -> None:
    lines = (REPO / ".env.example").read_text("utf-8").splitlines()
    assigned = {line.lstrip("#").split("=")[0] for line in lines if "=" in line}
    assert row.credentials, f"{row.name} has no credentials"
    missing = [var for var in row.env_vars if var not in assigned]
    assert not missing, f".env.example lacks {missing}"


def test_a_spec_refuses_an_unknown_text_format() -> None:
    with pytest.raises(ConfigError, match="text_format 'markdown'"):
        replace(BUILTIN["x"], text_format="markdown")


def test_a_missing_length_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"no length rule 'distributor\.limits:nope'"):
        limits.counter("distributor.limits:nope")


def test_platform_tables_in_the_docs_are_generated_from_the_specs() -> None:
    """README and docs/ tables that repeat spec facts are generated: a new row regenerates them
    (`python -m distributor.platform_tables`), and the index lists every platform."""
    from distributor import platform_tables

    stale = [str(p.relative_to(REPO)) for p in platform_tables.stale(REPO)]
    assert not stale, f"run `python -m distributor.platform_tables`: {stale} are out of date"
    index = (REPO / "docs" / "platforms" / "README.md").read_text("utf-8")
    assert "<!-- platforms:index -->" in index
    for row in SPECS:
        assert f"]({row.name}.md)" in index, f"{row.name} is not in docs/platforms/README.md"


def test_a_platform_table_of_an_unknown_kind_is_an_error(tmp_path: Path) -> None:
    from distributor import platform_tables

    page = tmp_path / "README.md"
    page.write_text("<!-- platforms:nope -->\n<!-- /platforms:nope -->\n", "utf-8")
    with pytest.raises(ValueError, match="unknown platform table 'nope'"):
        platform_tables.render(page, tmp_path)
