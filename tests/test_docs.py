"""The docs match the code: links resolve, every command is listed, option placement holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
    from distributor.cli import COMMANDS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in COMMANDS if f"distributor {name}" not in readme]
    assert not missing, f"README does not mention: {missing}"


def _leaf_commands() -> list[tuple[str, Any]]:
    """Every command as the CLI resolves it (`hook send`, not only `hook`)."""
    import click

    from distributor.cli import COMMANDS, cli

    ctx = click.Context(cli)
    found = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        elif command is not None:
            found.append((name, command))
    return found


def test_global_options_work_where_the_docs_say() -> None:
    """Each option a page says works "before or after the command" is accepted in both places."""
    from distributor.cli import cli

    claims = {
        option
        for page in PAGES
        for sentence in re.split(r"\.\s", page.read_text(encoding="utf-8"))
        if "before or after the command" in sentence
        for option in re.findall(r"`(--[a-z-]+)", sentence)
    }
    assert {"--config", "--env-file", "--log-level", "--log-format", "--log-file"} <= claims
    before = {opt for p in cli.params for opt in p.opts}
    for option in sorted(claims):
        assert option in before, f"{option} is not a global option"
        refused = [
            n for n, c in _leaf_commands() if option not in {o for p in c.params for o in p.opts}
        ]
        assert not refused, f"{option} is not accepted after: {refused}"


def _project() -> dict[str, Any]:
    import tomllib

    project: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return project


def _install_names(text: str) -> list[str]:
    """The distribution names `pip install ...` lines ask for (paths, wheels, options left out)."""
    import shlex

    names = []
    for line in re.findall(r"pip install ([^`\n]*)", text):
        try:
            words = shlex.split(line.split(" #")[0])
        except ValueError:  # a quote closed outside the line (a Python string): plain words
            words = [word.strip("'\"") for word in line.split()]
        for word in words:
            if word.startswith(("-", ".", "/", "$")) or word.endswith(".whl"):
                continue
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", word)
            if name:
                names.append(name.group(0))
    return names


def test_install_instructions_name_this_distribution() -> None:
    """`distributor` on PyPI is another project: every install line must use ours."""
    ours = _project()["name"]
    sources = [*PAGES, REPO / "Dockerfile", *sorted((REPO / "distributor").rglob("*.py"))]
    found = {
        str(path.relative_to(REPO)): _install_names(path.read_text(encoding="utf-8"))
        for path in sources
    }
    assert sum(map(len, found.values())) >= 5, found  # the docs do give install lines
    wrong = {where: names for where, names in found.items() if set(names) - {ours}}
    assert not wrong, f"install lines not naming {ours}: {wrong}"
    assert _install_names("pip install 'distributor[web]'  # x") == ["distributor"]


def test_git_install_urls_are_the_project_source() -> None:
    source = _project()["urls"]["Source"]
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    urls = re.findall(r"@ (git\+https://[^\s\"'`]+)", text)
    assert urls and all(url == f"git+{source}" for url in urls), urls
