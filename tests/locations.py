"""Where the repository and the outside test data (fixtures, platform reference data) live.

The one place tests find data the project does not own. Public third-party material (platforms'
conformance data, publishers' pages and feeds) stays in the shared folder beside the repository
and is read in place, never copied into it:

- reference data: `$DISTRIBUTOR_REFERENCE_DIR`, else `<repo>/../shared/reference`;
- fixtures:       `$DISTRIBUTOR_FIXTURES_DIR`, else `<repo>/../shared/fixtures`.

`reference(...)` and `fixture(...)` return a path inside them. When the folder is absent the
calling test (or module, at import time) is skipped with one reason naming the folder and the
variable to set; under `CI=true` it fails instead, because CI always has the shared folder. A
file missing from a folder that exists is a wrong path in the test, so that always fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
KEPT_FOR_CHILDREN = ("DISTRIBUTOR_CACHE_DIR",)  # the session's template cache (conftest.py)


def child_env() -> dict[str, str]:
    """The environment for a distributor subprocess: none of the `DISTRIBUTOR_*` settings of
    whoever runs the tests, so they cannot change what is tested, except the session's folder
    for compiled templates (so no test writes to the user's ~/.cache)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DISTRIBUTOR_") or k in KEPT_FOR_CHILDREN
    }


@dataclass(frozen=True)
class DataRoot:
    """A folder of outside data, found through an environment variable or beside the repo."""

    what: str
    variable: str
    default: Path

    @property
    def root(self) -> Path:
        return Path(os.environ.get(self.variable) or self.default)

    def locate(self, *parts: str) -> Path:
        """The path of `parts` inside this folder; skip (fail under CI=true) when it is absent."""
        root = self.root
        path = root.joinpath(*parts)
        if path.exists():
            return path
        if root.is_dir():
            pytest.fail(f"{self.what} {'/'.join(parts)} is missing from {root}", pytrace=False)
        reason = f"{self.what} not found at {root}: set {self.variable}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: CI must have the shared data)", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


REFERENCE_DATA = DataRoot(
    "reference data", "DISTRIBUTOR_REFERENCE_DIR", REPO.parent / "shared" / "reference"
)
FIXTURE_DATA = DataRoot("fixtures", "DISTRIBUTOR_FIXTURES_DIR", REPO.parent / "shared" / "fixtures")
# Where they are for this run (used to build paths; read files through reference()/fixture()).
REFERENCE = REFERENCE_DATA.root
FIXTURES = FIXTURE_DATA.root


def reference(*parts: str) -> Path:
    """A file or folder of the platforms' reference data, e.g. `reference("twitter-text")`."""
    return REFERENCE_DATA.locate(*parts)


def fixture(*parts: str) -> Path:
    """A file of the shared real-world fixtures, e.g. `fixture("articles", "x.json")`."""
    return FIXTURE_DATA.locate(*parts)


def reference_params(
    parts: Sequence[str], make: Callable[[Path], list[Any]], width: int = 1
) -> list[Any]:
    """Parametrize values read from reference data at collection time.

    When the data is absent this gives one skipped placeholder (with the reason) instead, so
    only the tests that need the data are skipped, not the whole module.
    """
    try:
        path = reference(*parts)
    except pytest.skip.Exception as skipped:
        mark = pytest.mark.skip(reason=str(skipped.msg))
        return [pytest.param(*([None] * width), marks=mark, id="no-reference-data")]
    return make(path)
