"""Blocks that no model expands: still checked for names that mean nothing.

Stage: after expansion, from `dsl.check`. Expansion checks a block only when
a model calls it, with that call's arguments and input shape; a block in a
library file, or one no model uses yet, would otherwise hide a typo such as
`lienar(10)` until the day someone calls it. Without arguments or shapes,
this pass can only resolve names: each layer or block a chain calls must be
a catalogue layer, a block in scope, or a name the body defines (label,
`let`, repeat index, parameter).
"""

from __future__ import annotations

from collections.abc import Iterator

from . import ast
from .diagnostics import Reporter
from .layers import REGISTRY
from .scope import Scope
from .suggest import did_you_mean


def check_unused_blocks(blocks: list[ast.BlockDef], expanded: set[int], globals_: Scope,
                        reporter: Reporter) -> None:
    """Report unknown call names in the `blocks` whose `id()` is not in `expanded`."""
    for block in blocks:
        if id(block) in expanded:
            continue
        defined = {p.name for p in block.params} | {"in"} | set(_defined(block.body))
        known = [*REGISTRY, *globals_.visible(), *defined]
        for call in _calls(block.body):
            head = call.path[0]
            if head in REGISTRY or head in defined:
                continue
            found = globals_.lookup(head)
            if found is not None:
                continue
            reporter.report("E101", call.span, did_you_mean(head, known), name=".".join(call.path))


def _bodies(el: ast.Element) -> Iterator[ast.Body]:
    for attr in ("body", "shortcut", "then", "orelse"):
        b = getattr(el, attr, None)
        if isinstance(b, ast.Body):
            yield b


def _defined(body: ast.Body) -> Iterator[str]:
    """Every name a body binds, at any depth: labels, constants, repeat indices."""
    for stmt in body.stmts:
        if isinstance(stmt, ast.Let):
            yield stmt.name
        elif isinstance(stmt, ast.Chain):
            if stmt.label:
                yield stmt.label
            for el in stmt.elements:
                if isinstance(el, ast.Repeat) and el.index:
                    yield el.index
                for b in _bodies(el):
                    yield from _defined(b)


def _calls(body: ast.Body) -> Iterator[ast.LayerCall]:
    """The layer and block calls of a body, at any depth, in document order."""
    for stmt in body.stmts:
        if not isinstance(stmt, ast.Chain):
            continue
        for el in stmt.elements:
            if isinstance(el, ast.LayerCall):
                yield el
            for b in _bodies(el):
                yield from _calls(b)
