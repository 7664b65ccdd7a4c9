"""The floors hold: ground-floor modules import only the ground floor, and nothing below the
platform adapters (limits, config, rendering) reaches up into `distributor/platforms/`.

Imports are read from the source (every `import`, also inside functions and under TYPE_CHECKING:
a lazy import is still a dependency), so a climbing import fails here before it runs anywhere.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
from locations import REPO

PACKAGE = REPO / "distributor"
# Pure values and rules: what a platform is, what a post is, counting, errors, text hygiene.
GROUND = {
    "distributor.errors",
    "distributor.platform",
    "distributor.post",
    "distributor.limits",
    "distributor.telegram_html",
    "distributor.article",
    "distributor.links",
    "distributor.untrusted",
    "distributor.hashtags",
    "distributor.language",
    "distributor.clock",
    "distributor.resources",
    "distributor.redact",
    "distributor.secrets",
}
# Lower floors that adapters build on, so they must never need an adapter.
BELOW_PLATFORMS = ("distributor.limits", "distributor.config", "distributor.render")


def _name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


@cache
def imports(module: str) -> frozenset[str]:
    """The distributor modules `module` imports anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return frozenset(n for n in found if n in MODULES and n != "distributor")


def closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for dep in imports(todo.pop()) - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


@pytest.mark.parametrize("module", sorted(GROUND))
def test_ground_floor_imports_only_the_ground_floor(module: str) -> None:
    assert module in MODULES
    assert imports(module) <= GROUND, f"{module} climbs to {sorted(imports(module) - GROUND)}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m.startswith(BELOW_PLATFORMS)), ids=str
)
def test_nothing_below_the_adapters_reaches_into_platforms(module: str) -> None:
    climbing = sorted(m for m in closure(module) if m.startswith("distributor.platforms"))
    assert not climbing, f"{module} reaches {climbing}"


def test_the_reader_sees_imports() -> None:
    """The check itself works: a module known to import another is seen doing so."""
    assert "distributor.platform" in imports("distributor.limits")
    assert "distributor.platforms.base" in closure("distributor.platforms.registry")
