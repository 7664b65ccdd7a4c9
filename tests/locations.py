"""Where the repository and the shared fixtures and reference data live, for every test module."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
REFERENCE = SHARED / "reference"
