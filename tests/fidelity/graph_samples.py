"""Real Graph API error bodies from the shared reference data (read in place), as (status, body)."""

from __future__ import annotations

import json
from typing import Any

from locations import reference

INVALIDATED = (
    "bk-rs-facebook-apis-rs/"
    "facebook-graph-api-object-error__err__access_token_session_has_been_invalidated.json"
)


def curated(sample_id: str) -> tuple[int | None, Any]:
    """A quoted sample of `graph_api_curated_samples.json` (with its HTTP status, if recorded)."""
    path = reference("facebook", "graph_api_curated_samples.json")
    samples = json.loads(path.read_text(encoding="utf-8"))["samples"]
    sample = next(s for s in samples if s["id"] == sample_id)
    return sample.get("http_status"), sample["body"]


def recorded(name: str) -> tuple[int | None, Any]:
    """A whole recorded body file (no status recorded)."""
    return None, json.loads(reference("facebook", name).read_text(encoding="utf-8"))
