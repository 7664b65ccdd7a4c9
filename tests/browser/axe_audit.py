"""axe-core in the browser tests: the accessibility audit every admin page must pass.

axe-core (npm, pinned in `.ci/axe.sh`) is installed into a cache outside the clone; the path
of its `axe.min.js` comes from `DISTRIBUTOR_TEST_AXE` (`.ci/run` exports it), else the cache
`.ci/axe.sh install` fills. Without it the audit skips with the reason, and fails under
`CI=true`. The script is evaluated through the DevTools protocol, which the pages' CSP
(no scripts) does not govern, so the pages are audited exactly as they are served.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

AXE_ENV = "DISTRIBUTOR_TEST_AXE"
BLOCKING = ("critical", "serious")


def _default() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = os.environ.get("DISTRIBUTOR_AXE_DIR") or str(Path(cache) / "distributor-axe")
    return Path(folder) / "node_modules" / "axe-core" / "axe.min.js"


@functools.cache
def _source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def axe_source() -> str:
    """axe.min.js, or skip (fail under CI=true) naming how to install it."""
    path = Path(os.environ.get(AXE_ENV) or _default())
    if path.is_file():
        return _source(str(path))
    reason = f"axe-core not found at {path}: run `.ci/axe.sh install` (or set {AXE_ENV})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def audit(page: Any, source: str) -> list[str]:
    """The critical and serious axe violations of the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({', '.join(_targets(v))})"
        for v in result["violations"]
        if v.get("impact") in BLOCKING
    ]


def _targets(violation: dict[str, Any]) -> list[str]:
    return [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
