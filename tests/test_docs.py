"""The documentation's relative links point at files that exist (README and docs/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from locations import REPO

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(REPO)} links to missing files: {missing}"


def test_every_command_is_in_the_readme() -> None:
    from distributor.cli import COMMANDS, LazyGroup

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    existing = [name for name in COMMANDS if LazyGroup._load(name) is not None]
    missing = [name for name in existing if f"distributor {name}" not in readme]
    assert not missing, f"README does not mention: {missing}"
