"""distributor: articles in, fitted teaser posts out, delivered once to every channel.

The public API is small and loaded lazily (importing `distributor` stays cheap):

    from distributor import Article, load_config, preview, publish
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Article", "load_config", "preview", "publish"]
__version__ = "0.1.0"

_LAZY = {
    "Article": "distributor.article",
    "load_config": "distributor.config",
    "preview": "distributor.service",
    "publish": "distributor.planning",
}

if TYPE_CHECKING:
    from distributor.article import Article
    from distributor.config import load_config


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'distributor' has no attribute {name!r}")
