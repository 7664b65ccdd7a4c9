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

import pytest
from locations import REPO

from distributor import limits
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
