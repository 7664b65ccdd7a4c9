"""Which templates fitting may fill instead of re-render (see `distributor.render.skeleton`).

A slot (`teaser`, `hashtags`) qualifies when the template uses it only as `{{ teaser }}` and
`{% if teaser %}` and never sets it, and the template has no node that reads or rebinds the
context in ways this check does not follow (includes, imports, blocks, macros, filter and set
blocks, changed autoescaping).
"""

from __future__ import annotations

import weakref

from jinja2 import Template, nodes

SLOTS = ("teaser", "hashtags")
# Nodes that can read or rebind the context in ways the check below does not follow.
_BARRED = (
    nodes.Extends,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Block,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,  # filters the output around `{{ teaser }}`
    nodes.AssignBlock,  # captures it into a variable
    nodes.EvalContextModifier,
)
_FILLABLE: weakref.WeakKeyDictionary[Template, frozenset[str]] = weakref.WeakKeyDictionary()


def fillable(tree: nodes.Template) -> frozenset[str]:
    """The slots `tree` uses only as `{{ slot }}` and `{% if slot %}` and never sets."""
    if any(True for _ in tree.find_all(_BARRED)):
        return frozenset()
    return frozenset(slot for slot in SLOTS if _uses_ok(tree, None, slot))


def _uses_ok(node: nodes.Node, parent: nodes.Node | None, slot: str) -> bool:
    if isinstance(node, nodes.Name) and node.name == slot:
        if node.ctx != "load":
            return False
        if isinstance(parent, nodes.Output):
            return any(child is node for child in parent.nodes)
        return isinstance(parent, nodes.If) and parent.test is node
    return all(_uses_ok(child, node, slot) for child in node.iter_child_nodes())


def remember(template: Template, slots: frozenset[str]) -> None:
    """Remember `slots` (what `fillable` found in its tree) as the fillable slots of `template`."""
    _FILLABLE[template] = slots


def fillable_slots(template: Template) -> frozenset[str]:
    """The slots `remember` was given for `template` (none for one it never saw)."""
    return _FILLABLE.get(template, frozenset())
