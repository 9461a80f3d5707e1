"""Calls in a chain: what a name means there, and block calls (§3).

Stage: expansion. A chain element written as a name — `conv(32, 3)`,
`BasicBlock(64)`, `enc.last` — reads a value, calls a block or applies a
catalogue layer; `Calls` decides which, evaluates the arguments, and expands
a block call: binds its parameters, gives its body `in` and a level of its
own, and refuses recursion and too deep nesting. Applying a layer is
`dsl.expand.layers`' job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ast
from ..dims import Sym
from ..evaluate import type_name
from ..layers import REGISTRY
from ..program import BlockRef
from ..scope import Scope
from ..suggest import did_you_mean
from ..values import Bundle, Value
from .layers import Layers
from .reuse import Expansion, Mark, call_key, record, replay
from .state import Ctx, Current, with_members

if TYPE_CHECKING:
    from .statements import Walker

MAX_BLOCK_DEPTH = 64

_CONSTANT = (int, float, str, bool, type(None), Sym)


def constant(v: Any) -> bool:
    """A parameter's value that a frame records: anything but a tensor, parallel branches or a group of labels."""
    if isinstance(v, _CONSTANT):
        return True
    return isinstance(v, (list, tuple)) and all(constant(x) for x in v)

Positional = list[tuple[Any, ast.Arg]]
Named = dict[str, tuple[Any, ast.Arg]]


class Calls:
    def __init__(self, walker: Walker, expanded: set[int]) -> None:
        self.walk = walker
        self.reporter = walker.reporter
        self.expanded = expanded  # id() of every block definition called
        self.block_stack: list[str] = []  # the blocks being expanded, outermost first
        self.layers = Layers(walker)
        # Block bodies already walked, by what their expansion depends on (`dsl.expand.reuse`).
        self.expansions: dict[tuple, Expansion] = {}
        self.called: list[str] = []  # every block call entered (or copied), in order
        self.deepest = -1  # the most blocks open at a call entered since the innermost walk began

    def call(self, el: ast.LayerCall, ctx: Ctx, current: Current, label: str | None, first: bool) -> Current:
        head = ctx.scope.lookup(el.path[0])
        # In a chain a layer's name always means the layer, even where a label
        # takes the same name (torchvision calls modules `conv`).
        shadowed_layer = len(el.path) == 1 and el.path[0] in REGISTRY
        if el.args is None and head is not None and head.kind != "block" and not shadowed_layer:
            return self._read(el, head.value)
        if len(el.path) > 1:
            raise self.reporter.error("E101", el.span, name=el.name, hint=did_you_mean(el.name, self._known(ctx)))
        name = el.path[0]
        if head is not None and head.kind == "block":
            return self.block(el, head.value, ctx, current, label)
        layer = REGISTRY.get(name)
        if layer is None:
            if head is not None:
                raise self.reporter.error("E116", el.span, name=name, what=f"a {head.kind}")
            raise self.reporter.error("E101", el.span, name=name, hint=did_you_mean(name, self._known(ctx)))
        positional, named = self.arguments(el, ctx)
        return self.layers.apply(el, layer, ctx, current, label, first, positional, named)

    def _read(self, el: ast.LayerCall, value: Any) -> Current:
        """`enc.last` in a chain: the value the path names."""
        for part in el.path[1:]:
            value = self.walk.evaluate.attribute(value, part, el)
        if not isinstance(value, (Value, Bundle)):
            raise self.reporter.error("E116", el.span, name=el.name, what=type_name(value))
        return value

    def _known(self, ctx: Ctx) -> list[str]:
        return list(REGISTRY) + list(ctx.scope.visible())

    def arguments(self, el: ast.LayerCall, ctx: Ctx) -> tuple[Positional, Named]:
        """The call's arguments evaluated, positional and named apart; a name given twice is E115."""
        positional: Positional = []
        named: Named = {}
        for arg in el.args or []:
            value = self.walk.evaluate(arg.value, ctx.scope)
            if arg.name is None:
                positional.append((value, arg))
            elif arg.name in named:
                raise self.reporter.error("E115", arg.span, name=arg.name, layer=el.name)
            else:
                named[arg.name] = (value, arg)
        return positional, named

    def block(self, el: ast.LayerCall, ref: BlockRef, ctx: Ctx, current: Current, label: str | None) -> Current:
        defn = ref.defn
        self.expanded.add(id(defn))
        if defn.name in self.block_stack:
            cycle = " → ".join(self.block_stack[self.block_stack.index(defn.name):] + [defn.name])
            raise self.reporter.error("E109", el.span, name=defn.name, cycle=cycle)
        if len(self.block_stack) >= MAX_BLOCK_DEPTH:
            raise self.reporter.error("E006", el.span, limit=MAX_BLOCK_DEPTH)
        self.called.append(defn.name)
        self.deepest = max(self.deepest, len(self.block_stack))
        positional, named = self.arguments(el, ctx)
        if isinstance(current, Bundle):
            raise self.reporter.error("E312", el.span)
        if current is None:
            raise self.walk.no_current(el.span, el.name, ctx)
        build = self.walk.build
        key = call_key(defn, positional, named, current, build)
        known = self.expansions.get(key) if key is not None else None
        if known is not None and known.fits(build, self.block_stack, MAX_BLOCK_DEPTH):
            owner = ctx.level.add(label)
            # The same key binds the same values (defaults read only the block's globals and the parameters).
            frame = build.push_frame("block", defn.name, owner, el.span, ctx.frame, el.note, label=label,
                                     args=known.args.copy())
            self.called += known.called
            if known.depth:
                self.deepest = max(self.deepest, len(self.block_stack) + known.depth)
            return replay(build, known, owner.sub, frame, current)
        scope = ref.unit.globals.child()  # a block body sees its own file's globals, not the caller's
        args = self._bind(el, defn, positional, named, scope)
        scope.define("in", current, "in", el.span)
        owner = ctx.level.add(label)
        frame = build.push_frame("block", defn.name, owner, el.span, ctx.frame, el.note, label=label, args=args)
        mark = Mark(len(build.nodes), len(build.frames), build.statements, frame, owner.sub, current,
                    len(self.walk.evaluate.member_reads),
                    build.nodes[current.node]["note"] if isinstance(current, Value) and current.node >= 0 else None,
                    len(self.called))
        self.block_stack.append(defn.name)
        outer_deepest, self.deepest = self.deepest, -1
        try:
            result = self.walk.body(defn.body, Ctx(scope, owner.sub, frame, ref.unit, ctx.in_model), current)
        finally:
            self.block_stack.pop()
            inner_deepest, self.deepest = self.deepest, max(outer_deepest, self.deepest)
        if isinstance(result, Bundle):
            raise self.reporter.error("E312", result.span or defn.body.span)
        result = with_members(result, scope.labels())
        if key is not None and key not in self.expansions and not self.reporter.failed:
            depth = inner_deepest - len(self.block_stack) if inner_deepest >= 0 else 0
            known = record(build, mark, result, self.called[mark.called:], depth,
                           self.walk.evaluate.member_reads[mark.reads:])
            if known is not None:
                self.expansions[key] = known
        return result

    def _bind(self, el: ast.LayerCall, defn: ast.BlockDef, positional: Positional, named: Named,
              scope: Scope) -> dict[str, Any]:
        """Define each block parameter in `scope`, in declared order: a default may read those before it.

        Returns the frame's record of them: every parameter in declared order but those given a tensor.
        """
        names = [p.name for p in defn.params]
        if len(positional) > len(names):
            raise self.reporter.error("E108", positional[len(names)][1].span, layer=defn.name,
                                      limit=len(names), count=len(positional))
        bound: dict[str, Any] = {p.name: v for p, (v, _) in zip(defn.params, positional)}
        for name, (value, arg) in named.items():
            if name not in names:
                raise self.reporter.error("E105", arg.span, layer=defn.name, name=name,
                                          hint=did_you_mean(name, names))
            if name in bound:
                raise self.reporter.error("E115", arg.span, name=name, layer=defn.name)
            bound[name] = value
        args: dict[str, Any] = {}
        for p in defn.params:
            if p.name not in bound:
                if p.default is None:
                    raise self.reporter.error("E106", el.span, layer=defn.name, name=p.name)
                bound[p.name] = self.walk.evaluate(p.default, scope)
            value = bound[p.name]
            scope.define(p.name, value, "parameter", p.span)
            if constant(value):
                args[p.name] = value
        return args
