"""Where the repository and the test data (fixtures, platform reference data) live."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A copy kept in the repository (tests/data/README.md says where it comes from), so the suite
# runs from any clone.
DATA = REPO / "tests" / "data"
FIXTURES = DATA / "fixtures"
REFERENCE = DATA / "reference"
