"""The platform tables in README and docs/, generated from `distributor.platform.BUILTIN`.

A table that repeats what a spec says (limits, options, credentials, policy, sandbox request) is
written between two markers and rewritten from the specs, so adding a platform regenerates the
docs instead of editing them by hand:

    <!-- platforms:index -->
    ...generated...
    <!-- /platforms:index -->

`python -m distributor.platform_tables` rewrites every marked block in README.md and docs/;
`--check` exits 1 naming the files whose blocks are out of date (tests/test_platform_specs.py
runs the same comparison). What is particular to a platform stays on its own page
(docs/platforms/<name>.md), which every generated table links to.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from distributor.platform import BUILTIN, Ambiguity, Limits, PlatformSpec, load

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- platforms:(\w+) -->\n)(.*?)(<!-- /platforms:\2 -->)", re.S)
POLICY = {
    Ambiguity.RESEND_WITH_KEY: "resend with the same key",
    Ambiguity.LOOKUP: "look up its own posts",
    Ambiguity.HOLD: "hold for a person",
}


def _specs() -> list[PlatformSpec]:
    return list(BUILTIN.values())


def title(row: PlatformSpec, root: Path = ROOT) -> str:
    """The platform's name as people write it: its docs page's heading ("X (Twitter)")."""
    first = (root / row.docs).read_text("utf-8").splitlines()[0]
    return first.removeprefix("# ").strip()


def _link(row: PlatformSpec, page: Path, root: Path, text: str, anchor: str = "") -> str:
    target = os.path.relpath(root / row.docs, page.parent).replace(os.sep, "/")
    return f"[{text}]({target}{anchor})"


def _limit(limits: Limits) -> str:
    parts = [f"{limits.text:,}"]
    if limits.caption:
        parts.append(f"{limits.caption:,} as an image caption")
    if limits.title:
        parts.append(f"title {limits.title:,}")
    if limits.byte_cap:
        parts.append(f"{limits.byte_cap:,} UTF-8 bytes")
    return ", ".join(parts)


def _code(names: tuple[str, ...], suffix: str = "") -> str:
    return ", ".join(f"`{name}{suffix}`" for name in names)


def _counting(row: PlatformSpec) -> str:
    doc = (load(row.counter).__doc__ or "").strip()
    return f"`{row.counter.partition(':')[2]}`: " + " ".join(doc.split()).partition(". ")[0]


def _credentials(row: PlatformSpec) -> str:
    optional = _code(row.optional_credentials, "_env")
    return _code(row.credentials, "_env") + (f" (optional: {optional})" if optional else "")


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows]) + "\n"


def _index(page: Path, root: Path) -> str:
    head = ["platform", "limit", "required options", "credentials", "image", "unknown outcome"]
    head.append("sandbox")
    rows = [
        [
            _link(row, page, root, title(row, root)),
            _limit(row.limits),
            _code(row.required_options),
            _code(row.env_vars),
            "required" if row.requires_image else "optional",
            POLICY[row.ambiguity],
            f"`{row.example}`",
        ]
        for row in _specs()
    ]
    return _table(head, rows)


def _names(page: Path, root: Path) -> str:
    links = [_link(row, page, root, title(row, root)) for row in _specs()]
    return ", ".join(links[:-1]) + " and " + links[-1] + ".\n"


def _limits(page: Path, root: Path) -> str:
    head = ["platform", "limit", "length rule (`distributor.limits`)"]
    rows = [
        [_link(row, page, root, row.name), _limit(row.limits), _counting(row)] for row in _specs()
    ]
    return _table(head, rows)


def _options(page: Path, root: Path) -> str:
    head = ["platform", "required options", "optional options", "credentials", "explained"]
    rows = [
        [
            f"`{row.name}`",
            _code(row.required_options),
            _code(row.optional_options),
            _credentials(row),
            _link(row, page, root, row.docs.rpartition("/")[2], "#configuration"),
        ]
        for row in _specs()
    ]
    return _table(head, rows)


KINDS: dict[str, Callable[[Path, Path], str]] = {
    "index": _index,
    "names": _names,
    "limits": _limits,
    "options": _options,
}


def pages(root: Path = ROOT) -> list[Path]:
    """README.md and every docs page (the files that may hold a generated block)."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def render(page: Path, root: Path = ROOT) -> str:
    """`page`'s text with every marked block generated afresh."""

    def fill(match: re.Match[str]) -> str:
        kind = match.group(2)
        if kind not in KINDS:
            raise ValueError(f"{page}: unknown platform table {kind!r} (known: {', '.join(KINDS)})")
        return match.group(1) + KINDS[kind](page, root) + match.group(4)

    return BLOCK.sub(fill, page.read_text("utf-8"))


def stale(root: Path = ROOT) -> list[Path]:
    """The pages whose generated blocks differ from what the specs say now."""
    return [page for page in pages(root) if render(page, root) != page.read_text("utf-8")]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    changed = stale()
    if "--check" in args:
        for page in changed:
            print(f"{page.relative_to(ROOT)}: platform tables out of date", file=sys.stderr)
        return 1 if changed else 0
    for page in changed:
        page.write_text(render(page), "utf-8")
        print(f"rewrote {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
