"""`.env.example` lists every variable the example configuration and the code read."""

from __future__ import annotations

import re
import tomllib

from locations import REPO


def _listed() -> set[str]:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_credential_variable_of_the_example_config_is_listed() -> None:
    config = tomllib.loads((REPO / "examples" / "distributor.toml").read_text(encoding="utf-8"))
    wanted = {
        value
        for channel in config["channels"].values()
        for key, value in channel.items()
        if key.endswith("_env")
    }
    assert wanted, "the example configuration names no credential variables"
    assert wanted <= _listed(), f"missing from .env.example: {sorted(wanted - _listed())}"


def test_every_distributor_setting_the_code_reads_is_listed() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "distributor").rglob("*.py"))
    read = set(re.findall(r"\"(DISTRIBUTOR_[A-Z_]+)\"", code))
    testing_hooks = {name for name in read if "CRASH" in name or "TEST" in name}
    missing = read - testing_hooks - _listed()
    assert not missing, f"missing from .env.example: {sorted(missing)}"


def test_no_value_is_filled_in() -> None:
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert value == "", f".env.example must not carry a value for {name}"
