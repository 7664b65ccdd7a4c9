"""Fitting without re-rendering: the two values fitting changes, filled into a rendered skeleton.

Fitting tries several `teaser`/`hashtags` pairs for one post. A template that uses them only as
`{{ teaser }}` and `{% if teaser %}` (every packaged template does) renders the same text for all
non-empty values but for the value itself, so each (teaser empty?, hashtags empty?) shape is
rendered once with a mark in their place and each attempt replaces the marks (escaped where the
template autoescapes). Anything else a template might do with them (filters, comparisons,
assignments, macros, includes, changed autoescaping) keeps the full render per attempt, and so
does any skeleton whose render fails: the full render then gives the same error as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from jinja2 import Template
from markupsafe import escape

from distributor.errors import TemplateError
from distributor.render import engine
from distributor.render.guard import Budget
from distributor.render.slots import SLOTS, fillable_slots

# Random per process: no article and no template can contain or compute it.
# (os.urandom is what `secrets.token_hex` reads; `secrets` would add three imports to start-up.)
_TEASER, _HASHTAGS = (f"\ue000{slot}{os.urandom(8).hex()}\ue001" for slot in SLOTS)


class Filler:
    """One post's skeletons: `fill(teaser, hashtags)` is the template's raw output, or None
    when only a full render can say (nothing fillable, a failing skeleton, output over the cap).
    A slot that cannot be filled is rendered with its value: its skeletons are per value."""

    def __init__(
        self, template: Template, values: Mapping[str, Any], *, max_chars: int, budget: Budget
    ) -> None:
        self.template = template
        self.values = values
        self.max_chars = max_chars
        self.budget = budget
        self.fillable = fillable_slots(template)
        name = template.name or ""
        autoescape = engine.ENV.autoescape
        self.escaped = bool(autoescape(name) if callable(autoescape) else autoescape)
        self.skeletons: dict[tuple[str, str], str | None] = {}

    def fill(self, teaser: str, hashtags: str) -> str | None:
        if not self.fillable:
            return None
        fill_teaser = bool(teaser) and "teaser" in self.fillable
        fill_tags = bool(hashtags) and "hashtags" in self.fillable
        # What the skeleton is rendered with: a mark for a non-empty fillable slot, else the value.
        key = (_TEASER if fill_teaser else teaser, _HASHTAGS if fill_tags else hashtags)
        if key not in self.skeletons:
            self.skeletons[key] = self._skeleton(dict(zip(SLOTS, key, strict=True)))
        text = self.skeletons[key]
        if text is None:
            return None
        if fill_teaser:
            text = text.replace(_TEASER, str(escape(teaser)) if self.escaped else teaser)
        if fill_tags:
            text = text.replace(_HASHTAGS, str(escape(hashtags)) if self.escaped else hashtags)
        if len(text) > self.max_chars or (
            "\ue000" in text and (_TEASER in text or _HASHTAGS in text)
        ):
            return None  # over the cap (the full render says so), or a mark left where unexpected
        return text

    def _skeleton(self, shape: Mapping[str, str]) -> str | None:
        try:
            context = {**self.values, **shape}
            return engine.run(self.template, context, max_chars=self.max_chars, budget=self.budget)
        except TemplateError:
            return None
