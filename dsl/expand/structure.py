"""The structural elements of a chain: groups, residuals, parallels, repeats, ifs (§4).

Stage: expansion, from `dsl.expand.statements`, which walks their bodies.
A group and each repeat pass open a level and a scope of their own (§6); a
residual adds its main path to its shortcut (one implicit `add` node); a
parallel leaves its branches as a `Bundle` for the next merge; an `if`
expands one branch, chosen while checking. Calls and layers inside are not
this module's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ast
from ..diagnostics import DiagnosticError
from ..dims import fmt_shape, is_concrete
from ..evaluate import type_name
from ..values import POISON, Bundle, Namespace, Value
from .state import MAX_NODES, Ctx, Current, with_members

if TYPE_CHECKING:
    from .statements import Walker

MAX_REPEAT = 10_000


class Structure:
    def __init__(self, walker: Walker) -> None:
        self.walk = walker
        self.reporter = walker.reporter
        self.build = walker.build

    def group(self, el: ast.Group, ctx: Ctx, current: Current, label: str | None) -> Current:
        owner = ctx.level.add(label)
        frame = self.build.push_frame("group", label or "group", owner, el.span, ctx.frame, el.note)
        inner = Ctx(ctx.scope.child(), owner.sub, frame, ctx.unit, ctx.in_model)
        result = self.walk.body(el.body, inner, current)
        return with_members(result, inner.scope.labels())

    def residual(self, el: ast.Residual, ctx: Ctx, current: Current) -> Current:
        if not isinstance(current, Value):
            raise self.walk.no_current(el.span, "residual", ctx)
        main = self.walk.body(el.body, ctx, current)
        short = self.walk.body(el.shortcut, ctx, current) if el.shortcut is not None else current
        if not isinstance(main, Value) or not isinstance(short, Value):
            raise self.reporter.error("E312", el.span)
        if main.poisoned or short.poisoned:
            return POISON
        if main.type.shape != short.type.shape:
            raise self.reporter.error("E302", el.span, left=fmt_shape(main.type.shape),
                                      right=fmt_shape(short.type.shape))
        node = self.build.add_node("residual", "add", {}, (main.node, short.node), main.type, el.span, None, ctx,
                                   name="@add", note=el.note, label="⊕")
        return Value(node, main.type, origin=f"the residual on line {el.span.line}")

    def parallel(self, el: ast.Parallel, ctx: Ctx, current: Current) -> Current:
        if not isinstance(current, Value):
            raise self.walk.no_current(el.span, "parallel", ctx)
        branches = []
        for stmt in el.body.stmts:
            try:
                out = self.walk.stmt(stmt, ctx, current)
            except DiagnosticError as e:
                self.walk.absorb(e)
                out = POISON
            if not isinstance(stmt, ast.Let):
                branches.append(out if isinstance(out, Value) else POISON)
        return Bundle(branches, origin=f"the parallel on line {el.span.line}", span=el.span)

    def repeat(self, el: ast.Repeat, ctx: Ctx, current: Current, label: str | None) -> Current:
        n = self.walk.evaluate(el.count, ctx.scope)
        if not is_concrete(n):
            raise self.reporter.error("E107", el.count.span, layer="repeat", name="count",
                                      expected="an integer", got=type_name(n))
        if n < 0:
            raise self.reporter.error("E304", el.count.span, what="the repeat count", value=n)
        if n > MAX_REPEAT:
            raise self.reporter.error("E404", el.count.span, what="the repeat count", value=n, limit=MAX_REPEAT)
        owner = ctx.level.add(label)
        frame = self.build.push_frame("repeat", label or "repeat", owner, el.span, ctx.frame, el.note, count=n)
        members: dict[str, Any] = {}
        sizes: list[int] = []  # nodes each pass added, to refuse a huge network before building it
        for k in range(n):
            if len(sizes) == 2 and len(self.build.nodes) + min(sizes) * (n - k) > MAX_NODES:
                raise self.reporter.error("E405", el.count.span, f"{n:,} passes of {min(sizes):,} layers or more"
                                          " each; check the `repeat` counts", limit=f"{MAX_NODES:,}")
            before = len(self.build.nodes)
            pass_el = owner.sub.add(fixed=str(k))
            scope = ctx.scope.child()
            if el.index is not None:
                scope.define(el.index, k, "index", el.span)
            if label is not None and members:
                # The passes already made are reachable by the repeat's own label (`block.0.attn.bias`),
                # so a later pass can read what the first one computed, as T5 shares its position bias.
                scope.define(label, Namespace(dict(members)), "label", el.span)
            pframe = self.build.push_frame("pass", str(k), pass_el, el.span, frame)
            current = self.walk.body(el.body, Ctx(scope, pass_el.sub, pframe, ctx.unit, ctx.in_model), current)
            if k < 2:
                sizes.append(len(self.build.nodes) - before)
            labels = {name: v for name, v in scope.labels().items() if name != label}
            only = pass_el.sub.elements
            if len(only) == 1 and only[0].label is None and isinstance(current, Value):
                # A pass of one unlabelled block call or group *is* that element (§6), so its labels
                # are the pass's: `h.11.attn` of `h: repeat(12) { GPT2Block(12) }`.
                labels = {**current.members, **labels}
            members[str(k)] = Namespace(labels)
            if isinstance(current, Value) and current.poisoned:
                break  # the same error would repeat in every pass
        return with_members(current, members)

    def if_(self, el: ast.If, ctx: Ctx, current: Current) -> Current:
        cond = self.walk.evaluate(el.cond, ctx.scope)
        if not isinstance(cond, bool):
            raise self.reporter.error("E406", el.cond.span, what="if", got=type_name(cond))
        chosen = el.then if cond else el.orelse
        return self.walk.body(chosen, ctx, current) if chosen is not None else current
