"""Statements and chains: the walk of a body, keeping the current value (§2).

Stage: expansion. A `Walker` goes through a body statement by statement:
`let`, `input`, `output` and `->` chains, whose elements it hands on — calls
to `dsl.expand.calls`, groups, residuals, parallels, repeats and ifs to
`dsl.expand.structure`. Labels follow the rules of §2. A failing statement
is reported and leaves `POISON` as the current value, so the next ones are
still checked without cascades. It infers no shapes itself.
"""

from __future__ import annotations

from typing import Any

from .. import ast
from ..diagnostics import DiagnosticError, Reporter
from ..dims import Sym, is_concrete
from ..evaluate import Evaluator, type_name
from ..layers import REGISTRY
from ..source import Span
from ..values import POISON, Bundle, Namespace, TensorType, Value
from .calls import Calls
from .state import Ctx, Current, ModelBuild, expr_text, port
from .structure import Structure


class Walker:
    """Expands the statements of one model; the call and structure expanders call back into it."""

    def __init__(self, reporter: Reporter, build: ModelBuild, expanded: set[int]) -> None:
        self.reporter = reporter
        self.build = build
        self.evaluate = Evaluator(reporter)
        self.calls = Calls(self, expanded)
        self.structure = Structure(self)

    def release(self) -> None:
        """Drop the helpers (each points back at this walker), once the model is expanded."""
        del self.calls, self.structure

    def absorb(self, e: DiagnosticError) -> None:
        for d in e.diagnostics:
            self.reporter.add(d)

    def body(self, body: ast.Body, ctx: Ctx, current: Current) -> Current:
        for stmt in body.stmts:
            try:
                current = self.stmt(stmt, ctx, current)
            except DiagnosticError as e:
                self.absorb(e)
                current = POISON
        return current

    def stmt(self, stmt: ast.Stmt, ctx: Ctx, current: Current) -> Current:
        if stmt.kind == "chain":  # most statements
            return self.chain(stmt, ctx, current)
        if isinstance(stmt, ast.Let):
            self.check_definable(stmt.name, stmt.span, ctx, "constant")
            try:
                value = self.evaluate(stmt.value, ctx.scope)
            except DiagnosticError:
                # The name still exists, poisoned: its uses stay quiet instead of each saying "undefined".
                ctx.scope.define(stmt.name, POISON, "constant", stmt.span)
                raise
            ctx.scope.define(stmt.name, value, "constant", stmt.span)
            return current
        if isinstance(stmt, ast.InputDecl):
            return self.input_decl(stmt, ctx, current)
        if isinstance(stmt, ast.Output):
            values = [self.tensor(self.evaluate(v, ctx.scope), v) for v in stmt.values]
            if ctx.in_model and ctx.frame is None:
                names = [expr_text(v) for v in stmt.values]
                self.build.outputs = [port(n, v) for n, v in zip(names, values) if not v.poisoned]
                return current
            if len(values) != 1:
                raise self.reporter.error("E504", stmt.span, what="`output` of several values", where="a block")
            return values[0]
        return self.chain(stmt, ctx, current)

    def input_decl(self, stmt: ast.InputDecl, ctx: Ctx, current: Current) -> Current:
        build = self.build
        if not ctx.in_model or ctx.frame is not None:
            raise self.reporter.error("E504", stmt.span, what="`input`", where="a block or group")
        if stmt.type.dtype not in ("float", "int"):
            raise self.reporter.error("E107", stmt.type.span, layer="input", name="type",
                                      expected="`int` or float (no prefix)", got=f"`{stmt.type.dtype}`")
        if any(p.name == stmt.name for p in build.inputs):
            raise self.reporter.error("E501", stmt.span, name=stmt.name)
        self.check_definable(stmt.name, stmt.span, ctx, "input")
        sizes = Evaluator(self.reporter, on_unknown_name=build.symbol)
        dims = []
        for d in stmt.type.dims:
            v = sizes(d, ctx.scope)
            if isinstance(v, bool) or not isinstance(v, (int, Sym)):
                raise self.reporter.error("E107", d.span, layer="input", name=stmt.name,
                                          expected="a size", got=type_name(v))
            if is_concrete(v) and v <= 0:
                raise self.reporter.error("E304", d.span, what="an input size", value=v)
            dims.append(v)
        # A float input of rank 3 or more is an image or a volume, channels first (§2: `[3, 128, 128]`).
        t = TensorType(tuple(dims), stmt.type.dtype, channels_first=stmt.type.dtype == "float" and len(dims) >= 3)
        node = build.add_node("input", "input", {}, (), t, stmt.span, None, ctx, name=stmt.name, note=stmt.note,
                              label=f"{stmt.name} {'×'.join(str(d) for d in t.shape)}")
        value = Value(node, t, origin=f"the input `{stmt.name}`")
        build.inputs.append(port(stmt.name, value))
        ctx.scope.define(stmt.name, value, "input", stmt.span)
        if build.first_input is None:
            build.first_input = stmt.name
        return value if build.single_input else current

    def chain(self, chain: ast.Chain, ctx: Ctx, current: Current) -> Current:
        label = chain.label
        real: list[ast.Element] = []
        direct = False
        if label is not None:
            self.check_definable(label, chain.label_span, ctx, "label")
            real = [el for el in chain.elements if not self._is_ref(el, ctx)]
            # A label on a chain of one layer, group or repeat names that element; on a longer chain, a level.
            direct = len(real) == 1 and isinstance(real[0], (ast.LayerCall, ast.Group, ast.Repeat))
        inner_ctx, owner = ctx, None
        if label is not None and not direct:
            owner = ctx.level.add(label)
            frame = self.build.push_frame("chain", label, owner, chain.span, ctx.frame)
            inner_ctx = Ctx(ctx.scope.child(), owner.sub, frame, ctx.unit, ctx.in_model)
        build = self.build
        made = len(build.nodes)
        outer = build.open_statement()
        labelled = real[0] if direct else None  # the one element a label names directly
        first = True
        try:
            for el in chain.elements:
                try:
                    current = self.element(el, inner_ctx, current, label if el is labelled else None, first)
                except DiagnosticError as e:
                    self.absorb(e)
                    current = POISON
                first = False
        finally:
            build.statement = outer
        self._note_on_read(chain, current, made)
        if label is None:
            return current
        result = current if isinstance(current, Value) else POISON
        if isinstance(current, Bundle):
            self.reporter.report("E312", chain.span)
        members = inner_ctx.scope.labels() if owner is not None else {}
        if members:
            result = Value(result.node, result.type, result.origin, {**result.members, **members})
        ctx.scope.define(label, result, "label", chain.label_span)
        return result

    def _note_on_read(self, chain: ast.Chain, current: Current, made: int) -> None:
        """`reader.last  # the state after the last price`: the note belongs to the value it reads."""
        last = chain.elements[-1] if chain.elements else None
        if len(self.build.nodes) == made and last is not None and last.note and isinstance(current, Value) \
                and 0 <= current.node < made and self.build.nodes[current.node]["note"] is None:
            self.build.add_note(current.node, last.note)

    def _is_ref(self, el: ast.Element, ctx: Ctx) -> bool:
        """Whether a chain element reads a value (`x`, `enc.last`) rather than making one."""
        if not isinstance(el, ast.LayerCall) or el.args is not None:
            return False
        if len(el.path) == 1 and el.path[0] in REGISTRY:
            return False
        b = ctx.scope.lookup(el.path[0])
        return b is not None and b.kind in ("label", "input", "in") or (
            b is not None and isinstance(b.value, (Value, Bundle, Namespace)))

    def element(self, el: ast.Element, ctx: Ctx, current: Current, label: str | None, first: bool) -> Current:
        if isinstance(el, ast.LayerCall):
            return self.calls.call(el, ctx, current, label, first)
        if isinstance(el, ast.Group):
            return self.structure.group(el, ctx, current, label)
        if isinstance(el, ast.Residual):
            return self.structure.residual(el, ctx, current)
        if isinstance(el, ast.Parallel):
            return self.structure.parallel(el, ctx, current)
        if isinstance(el, ast.Repeat):
            return self.structure.repeat(el, ctx, current, label)
        if isinstance(el, ast.If):
            return self.structure.if_(el, ctx, current)
        raise AssertionError(el)  # pragma: no cover

    def check_definable(self, name: str, span: Span | None, ctx: Ctx, what: str) -> None:
        """A new label, constant or input may not redefine a name of its level or shadow a fixed one."""
        own = ctx.scope.names.get(name)
        if own is not None and own.kind in ("label", "constant", "input"):
            raise self.reporter.error("E103", span, name=name, line=own.span.line if own.span else 0)
        found = ctx.scope.lookup(name)
        if found is not None and found.kind in ("input", "parameter", "constant", "index", "block", "in"):
            kind = {"in": "block input"}.get(found.kind, found.kind)
            raise self.reporter.error("E104", span, name=name, what=kind)
        if name == "in":
            raise self.reporter.error("E104", span, name=name, what="block input")

    def no_current(self, span: Span, word: str, ctx: Ctx) -> DiagnosticError:
        """E502 or E313: `word` (a layer, block, `residual`, `parallel`) has no value to work on."""
        build = self.build
        if ctx.in_model and not build.single_input and ctx.frame is None:
            return self.reporter.error("E502", span, model=build.name, first=build.first_input or "x")
        return self.reporter.error("E313", span, what=f"`{word}`")

    def tensor(self, value: Any, expr: ast.Expr) -> Value:
        """`value`, which `expr` must name as a tensor value."""
        if not isinstance(value, Value):
            raise self.reporter.error("E116", expr.span, name=expr_text(expr), what=type_name(value))
        return value

