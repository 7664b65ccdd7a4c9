"""Bluesky (AT Protocol) adapter, plain `requests` over XRPC; `facets()` for rich text."""

from __future__ import annotations

from distributor.platforms.bluesky_facets import facets

__all__ = ["facets"]
