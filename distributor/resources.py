"""Files shipped with the package (default templates, the example configuration).

In a wheel they live inside the package (`_templates`, `_examples`); in a source checkout or
editable install they are the repository's `templates/` and `examples/` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_INSTALLED = {"templates": "_templates", "examples": "_examples"}


def packaged_path(relative: str) -> Path:
    """Resolve `templates/...` or `examples/...` whether installed or run from a checkout."""
    top, _, rest = relative.partition("/")
    inside = _PACKAGE / _INSTALLED.get(top, top) / rest
    if inside.exists():
        return inside
    return _PACKAGE.parent / relative
