"""Expansion and shape inference: a model's AST → its checked `ModelGraph`.

Stage: after loading. Walks a model body statement by statement, keeping the
current value (§2); expands block calls, groups, repeats, ifs, residuals and
parallels; asks the layer catalogue for each layer's output type and counts;
names every element by §6. Problems are collected: a failing element leaves
a poisoned value so that its siblings go on being checked without cascades.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from . import ast
from .diagnostics import DiagnosticError, Reporter
from .dims import Sym, fmt_shape, is_concrete
from .evaluate import Evaluator, type_name
from .graph import Frame, ModelGraph, Node, Port
from .layers import REGISTRY, Layer, LayerError
from .naming import Element, Level
from .program import BlockRef, Unit
from .scope import Scope
from .source import Span
from .suggest import did_you_mean
from .values import POISON, Bundle, Namespace, TensorType, Value

MAX_NODES = 200_000
MAX_REPEAT = 10_000
MAX_BLOCK_DEPTH = 64
MAX_PARAMS = 10**13

Current = Value | Bundle | None


@dataclass
class Ctx:
    """Where a statement is being expanded."""
    scope: Scope
    level: Level
    frame: int | None
    unit: Unit
    in_model: bool


@dataclass
class _Build:
    nodes: list[Node] = field(default_factory=list)
    elements: list[Element | None] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)
    frame_elements: list[Element] = field(default_factory=list)
    weights: dict[int, tuple[int, ...]] = field(default_factory=dict)  # node → shape of a weight it can share


class Expander:
    def __init__(self, reporter: Reporter, expanded: set[int] | None = None) -> None:
        self.reporter = reporter
        self.expanded = expanded if expanded is not None else set()  # id() of every block definition called
        self.symbols: dict[str, Any] = {}
        self.evaluate = Evaluator(reporter)
        self.block_stack: list[str] = []

    # ------------------------------------------------------------------ model
    def model(self, unit: Unit, mdef: ast.ModelDef, overrides: dict[str, Any]) -> ModelGraph | None:
        start = len(self.reporter.diagnostics)
        self.b = _Build()
        self._statement = -1  # the statement whose nodes are being made (diagrams group by it)
        self._statements = 0
        scope = unit.globals.child()
        params_used: dict[str, Any] = {}
        known = {p.name for p in mdef.params}
        for p in mdef.params:
            if p.name in overrides:
                value = overrides[p.name]
            elif p.default is not None:
                try:
                    value = self.evaluate(p.default, scope)
                except DiagnosticError as e:
                    self._absorb(e)
                    continue
            else:
                self.reporter.report("E114", p.span, name=p.name)
                continue
            params_used[p.name] = value
            scope.define(p.name, value, "parameter", p.span)
        # `--set seq=128` gives a symbolic input size a value.
        self.symbols = {k: v for k, v in overrides.items() if k not in known}
        self.used_symbols: set[str] = set()
        self.inputs: list[Port] = []
        self.outputs: list[Port] | None = None
        n_inputs = sum(isinstance(s, ast.InputDecl) for s in mdef.body.stmts)
        self.single_input = n_inputs == 1
        root = Level()
        ctx = Ctx(scope, root, None, unit, in_model=True)
        if n_inputs == 0:
            self.reporter.report("E503", mdef.span, model=mdef.name)
            return None
        self.model_name = mdef.name
        self.first_input: str | None = None
        current = self.body(mdef.body, ctx, None)
        for name in self.symbols:
            if name not in self.used_symbols:
                known = [p.name for p in mdef.params] + sorted(self.used_symbols)
                hint = did_you_mean(name, known) or (
                    f"its parameters: {', '.join(p.name for p in mdef.params)}" if mdef.params else
                    "it takes no parameters")
                self.reporter.report("E113", mdef.span, hint, model=mdef.name, name=name)
        outputs = self.outputs
        if outputs is None:
            outputs = []
            if isinstance(current, Bundle):
                self.reporter.report("E312", current.span or mdef.body.span)
            elif isinstance(current, Value) and not current.poisoned:
                outputs = [self._port("output", current)]
        if len(self.reporter.diagnostics) > start and any(
                d.severity == "error" for d in self.reporter.diagnostics[start:]):
            return None
        nodes = [n.model_copy(update={"name": el.path() if el is not None else n.name})
                 for n, el in zip(self.b.nodes, self.b.elements)]
        nodes = [n if n.element or not n.name.startswith("@") else n.model_copy(update={"name": self._implicit_name(n)})
                 for n in nodes]
        frames = [Frame(**{**f, "path": el.path()}) for f, el in zip(self.b.frames, self.b.frame_elements)]
        params = sum(n.params for n in nodes)
        macs: Any = 0
        for n in nodes:
            macs = macs + n.macs
        symbols = sorted({s for p in self.inputs for d in p.shape if isinstance(d, Sym) for s in d.symbols})
        return ModelGraph(name=mdef.name, file=unit.display, params_used=params_used, inputs=self.inputs,
                          outputs=outputs, nodes=nodes, frames=frames, params=params, macs=macs,
                          symbols=tuple(symbols))

    def _implicit_name(self, n: Node) -> str:
        parent = self.b.frame_elements[n.frame].path() if n.frame is not None else ""
        return (parent + "." if parent else "") + n.name[1:]

    def _port(self, name: str, v: Value) -> Port:
        return Port(name=name, node=v.node, shape=v.type.shape, dtype=v.type.dtype)

    def _absorb(self, e: DiagnosticError) -> None:
        for d in e.diagnostics:
            self.reporter.add(d)

    # ------------------------------------------------------------- statements
    def body(self, body: ast.Body, ctx: Ctx, current: Current) -> Current:
        for stmt in body.stmts:
            try:
                current = self.stmt(stmt, ctx, current)
            except DiagnosticError as e:
                self._absorb(e)
                current = POISON
        return current

    def stmt(self, stmt: ast.Stmt, ctx: Ctx, current: Current) -> Current:
        if isinstance(stmt, ast.Let):
            self._check_definable(stmt.name, stmt.span, ctx, "constant")
            ctx.scope.define(stmt.name, self.evaluate(stmt.value, ctx.scope), "constant", stmt.span)
            return current
        if isinstance(stmt, ast.InputDecl):
            return self.input_decl(stmt, ctx, current)
        if isinstance(stmt, ast.Output):
            values = [self._tensor(self.evaluate(v, ctx.scope), v) for v in stmt.values]
            if ctx.in_model and ctx.frame is None:
                names = [_expr_text(v) for v in stmt.values]
                self.outputs = [self._port(n, v) for n, v in zip(names, values) if not v.poisoned]
                return current
            if len(values) != 1:
                raise self.reporter.error("E504", stmt.span, what="`output` of several values", where="a block")
            return values[0]
        return self.chain(stmt, ctx, current)

    def input_decl(self, stmt: ast.InputDecl, ctx: Ctx, current: Current) -> Current:
        if not ctx.in_model or ctx.frame is not None:
            raise self.reporter.error("E504", stmt.span, what="`input`", where="a block or group")
        if stmt.type.dtype not in ("float", "int"):
            raise self.reporter.error("E107", stmt.type.span, layer="input", name="type",
                                      expected="`int` or float (no prefix)", got=f"`{stmt.type.dtype}`")
        if any(p.name == stmt.name for p in self.inputs):
            raise self.reporter.error("E501", stmt.span, name=stmt.name)
        self._check_definable(stmt.name, stmt.span, ctx, "input")

        def symbol(name: str):
            self.used_symbols.add(name)
            return self.symbols[name] if name in self.symbols else Sym.of(name)

        ev = Evaluator(self.reporter, on_unknown_name=symbol)
        dims = []
        for d in stmt.type.dims:
            v = ev(d, ctx.scope)
            if isinstance(v, bool) or not isinstance(v, (int, Sym)):
                raise self.reporter.error("E107", d.span, layer="input", name=stmt.name,
                                          expected="a size", got=type_name(v))
            if is_concrete(v) and v <= 0:
                raise self.reporter.error("E304", d.span, what="an input size", value=v)
            dims.append(v)
        t = TensorType(tuple(dims), stmt.type.dtype)
        node = self._add_node("input", "input", {}, (), t, stmt.span, None, ctx, name=stmt.name, note=stmt.note,
                              label=f"{stmt.name} {_shape_words(t)}")
        value = Value(node, t, origin=f"the input `{stmt.name}`")
        self.inputs.append(self._port(stmt.name, value))
        ctx.scope.define(stmt.name, value, "input", stmt.span)
        if self.first_input is None:
            self.first_input = stmt.name
        return value if self.single_input else current

    # ------------------------------------------------------------------ chains
    def chain(self, chain: ast.Chain, ctx: Ctx, current: Current) -> Current:
        label = chain.label
        if label is not None:
            self._check_definable(label, chain.label_span, ctx, "label")
        real = [el for el in chain.elements if not self._is_ref(el, ctx)]
        direct = len(real) == 1 and isinstance(real[0], (ast.LayerCall, ast.Group, ast.Repeat))
        inner_ctx, owner = ctx, None
        if label is not None and not direct:
            owner = ctx.level.add(label)
            inner_ctx = Ctx(ctx.scope.child(), owner.sub, self._push_frame("chain", label, owner, chain.span, ctx.frame),
                            ctx.unit, ctx.in_model)
        members: dict[str, Any] = {}
        outer, self._statement = self._statement, self._statements
        self._statements += 1
        made = len(self.b.nodes)
        try:
            for i, el in enumerate(chain.elements):
                el_label = label if (label is not None and direct and el is real[0]) else None
                try:
                    current = self.element(el, inner_ctx, current, el_label, first=(i == 0))
                except DiagnosticError as e:
                    self._absorb(e)
                    current = POISON
        finally:
            self._statement = outer
        last = chain.elements[-1] if chain.elements else None
        if len(self.b.nodes) == made and last is not None and last.note and isinstance(current, Value) \
                and 0 <= current.node < made and self.b.nodes[current.node].note is None:
            # `reader.last  # the state after the last price`: the note belongs to the value it reads.
            self.b.nodes[current.node] = self.b.nodes[current.node].model_copy(update={"note": last.note})
        if label is not None:
            if owner is not None:
                members = inner_ctx.scope.labels()
            result = current if isinstance(current, Value) else POISON
            if isinstance(current, Bundle):
                self.reporter.report("E312", chain.span)
            if members:
                result = Value(result.node, result.type, result.origin, {**result.members, **members})
            ctx.scope.define(label, result, "label", chain.label_span)
            return result
        return current

    def _is_ref(self, el: ast.Element, ctx: Ctx) -> bool:
        if not isinstance(el, ast.LayerCall) or el.args is not None:
            return False
        if len(el.path) == 1 and el.path[0] in REGISTRY:
            return False
        b = ctx.scope.lookup(el.path[0])
        return b is not None and b.kind in ("label", "input", "in") or (
            b is not None and isinstance(b.value, (Value, Bundle, Namespace)))

    def element(self, el: ast.Element, ctx: Ctx, current: Current, label: str | None, first: bool) -> Current:
        if isinstance(el, ast.LayerCall):
            return self.layer_call(el, ctx, current, label, first)
        if isinstance(el, ast.Group):
            owner = ctx.level.add(label)
            frame = self._push_frame("group", label or "group", owner, el.span, ctx.frame, el.note)
            inner = Ctx(ctx.scope.child(), owner.sub, frame, ctx.unit, ctx.in_model)
            result = self.body(el.body, inner, current)
            return self._with_members(result, inner.scope.labels())
        if isinstance(el, ast.Residual):
            return self.residual(el, ctx, current)
        if isinstance(el, ast.Parallel):
            return self.parallel(el, ctx, current)
        if isinstance(el, ast.Repeat):
            return self.repeat(el, ctx, current, label)
        if isinstance(el, ast.If):
            cond = self.evaluate(el.cond, ctx.scope)
            if not isinstance(cond, bool):
                raise self.reporter.error("E406", el.cond.span, what="if", got=type_name(cond))
            chosen = el.then if cond else el.orelse
            return self.body(chosen, ctx, current) if chosen is not None else current
        raise AssertionError(el)  # pragma: no cover

    def _with_members(self, v: Current, members: dict) -> Current:
        if isinstance(v, Value) and members:
            return Value(v.node, v.type, v.origin, {**v.members, **members})
        return v

    # ------------------------------------------------------------ layer calls
    def layer_call(self, el: ast.LayerCall, ctx: Ctx, current: Current, label: str | None, first: bool) -> Current:
        head = ctx.scope.lookup(el.path[0])
        # In a chain a layer's name always means the layer, even where a label
        # takes the same name (torchvision calls modules `conv`).
        shadowed_layer = len(el.path) == 1 and el.path[0] in REGISTRY
        if el.args is None and head is not None and head.kind not in ("block",) and not shadowed_layer:
            value: Any = head.value
            for part in el.path[1:]:
                value = self.evaluate.attribute(value, part, el)
            if not isinstance(value, (Value, Bundle)):
                raise self.reporter.error("E116", el.span, name=el.name, what=type_name(value))
            return value
        if len(el.path) > 1:
            raise self.reporter.error("E101", el.span, name=el.name,
                                      hint=did_you_mean(el.name, self._known_names(ctx)))
        name = el.path[0]
        if head is not None and head.kind == "block":
            return self.block_call(el, head.value, ctx, current, label, first)
        layer = REGISTRY.get(name)
        if layer is None:
            if head is not None and head.kind != "block":
                raise self.reporter.error("E116", el.span, name=name, what=f"a {head.kind}")
            raise self.reporter.error("E101", el.span, name=name, hint=did_you_mean(name, self._known_names(ctx)))
        return self.layer(el, layer, ctx, current, label, first)

    def _known_names(self, ctx: Ctx) -> list[str]:
        return list(REGISTRY) + [n for n in ctx.scope.visible()]

    def _eval_args(self, el: ast.LayerCall, ctx: Ctx) -> tuple[list[tuple[Any, ast.Arg]], dict[str, tuple[Any, ast.Arg]]]:
        positional: list[tuple[Any, ast.Arg]] = []
        named: dict[str, tuple[Any, ast.Arg]] = {}
        for arg in el.args or []:
            value = self.evaluate(arg.value, ctx.scope)
            if arg.name is None:
                positional.append((value, arg))
            elif arg.name in named:
                raise self.reporter.error("E115", arg.span, name=arg.name, layer=el.name)
            else:
                named[arg.name] = (value, arg)
        return positional, named

    def layer(self, el: ast.LayerCall, layer: Layer, ctx: Ctx, current: Current, label: str | None,
              first: bool) -> Current:
        positional, named = self._eval_args(el, ctx)
        if any(isinstance(v, Value) and v.poisoned for v, _ in [*positional, *named.values()]):
            return POISON  # an argument failed upstream; its error is already reported
        operands: list[Value] = []
        if layer.merge:
            if isinstance(current, Bundle) and not first:
                operands = list(current.values)
            elif isinstance(current, Value) and not first:
                operands = [current]
            given = [v for v, _ in positional if isinstance(v, Value)]
            if first and len(given) < 2 and isinstance(current, Value):
                operands = [current]  # `add(skip)` opening a statement merges into the current value
            operands += given
            positional = [(v, a) for v, a in positional if not isinstance(v, Value)]
            if positional and not layer.Args.model_fields:
                self._tensor(positional[0][0], positional[0][1].value)  # `add(k)`: k must name a value
        else:
            if isinstance(current, Bundle):
                raise self.reporter.error("E312", el.span)
            if current is None:
                raise self._no_current(el, ctx)
            operands = [current]
        refs: dict[str, Value] = {}
        shares: dict[str, Value] = {}
        for name in list(named):
            value, arg = named[name]
            if isinstance(value, (Value, Bundle)) and name in layer.weight_args:
                shares[name] = self._shared_weight(value, arg)
                del named[name]
            elif isinstance(value, (Value, Bundle)):
                if name not in layer.tensor_args:
                    raise self.reporter.error("E107", arg.value.span, layer=layer.name, name=name,
                                              expected=self._expected_words(layer, name), got="a tensor value")
                refs[name] = value
                del named[name]
        for value, arg in positional:
            if isinstance(value, (Value, Bundle)):
                raise self.reporter.error("E107", arg.value.span, layer=layer.name, name="(positional)",
                                          expected="a number or option", got="a tensor value")
        args = self._validate(layer, el, positional, named)
        if any(v.poisoned for v in [*operands, *refs.values(), *shares.values()]):
            return POISON
        types = [v.type for v in operands]
        ref_types = {k: v.type for k, v in refs.items()}
        ref_types |= {k: TensorType(self.b.weights[v.node]) for k, v in shares.items()}
        try:
            out = layer.infer(args, types, ref_types)
            params = layer.params(args, types, out, ref_types)
            macs = layer.macs(args, types, out, ref_types)
            text = layer.label(args, types[0] if types else None)
        except LayerError as e:
            raise self._layer_error(e, el) from None
        if params > MAX_PARAMS:
            raise self.reporter.error("E404", el.span, what=f"the parameter count of {layer.name}",
                                      value=f"{params:,}", limit=f"{MAX_PARAMS:,}")
        for d in out.shape:
            if is_concrete(d) and d > 2**40:
                raise self.reporter.error("E404", el.span, what="a dimension", value=f"{d:,}", limit=f"{2**40:,}")
        try:
            members = layer.members(args, types, out)
            weight = layer.weight(args, types, out)
        except LayerError as e:
            raise self._layer_error(e, el) from None
        element = ctx.level.add(label)
        node = self._add_node("layer", layer.name, layer.recorded(args, types), tuple(v.node for v in operands), out, el.span, element,
                              ctx, params=params, macs=macs, note=el.note, label=text,
                              refs={k: v.node for k, v in refs.items()})
        if shares:
            self.b.nodes[node] = self.b.nodes[node].model_copy(update={"shares": {"weight": v.node for v in shares.values()}})
        if weight is not None:
            self.b.weights[node] = weight
        origin = f"the {layer.name} on line {el.span.line}"
        value = Value(node, out, origin=origin)
        for index, (name, t) in enumerate(members.items(), start=1):
            pick = self._add_node("member", "pick", {"index": index, "member": name}, (node,), t, el.span, None, ctx,
                                  name=f"@{name}", label=f".{name}")
            value.members[name] = Value(pick, t, origin=f"`.{name}` of {origin}")
        return value

    def _shared_weight(self, value: Value | Bundle, arg: ast.Arg) -> Value:
        """The layer a `tie=` names: its value must come straight from a layer with a weight."""
        if isinstance(value, Value) and (value.poisoned or value.node in self.b.weights):
            return value
        what = value.origin if isinstance(value, Value) else "the branches of a `parallel`"
        raise self.reporter.error("E320", arg.value.span, what=f"`{_expr_text(arg.value)}`, {what}")

    def _no_current(self, el: ast.LayerCall, ctx: Ctx) -> DiagnosticError:
        if ctx.in_model and not self.single_input and ctx.frame is None:
            return self.reporter.error("E502", el.span, model=self.model_name, first=self.first_input or "x")
        return self.reporter.error("E313", el.span, what=f"`{el.name}`")

    def _expected_words(self, layer: Layer, name: str) -> str:
        if name in layer.weight_args:
            return "the label of a layer with a weight, such as an embedding"
        field = layer.Args.model_fields.get(name)
        if name in layer.tensor_args or not field:
            return "a labelled tensor value"
        return _describe_type(field.annotation)

    def _validate(self, layer: Layer, el: ast.LayerCall, positional, named) -> Any:
        # Tensor and weight arguments are named only: `memory=enc`, `tie=wte`.
        fields = [n for n in layer.Args.model_fields if n not in layer.tensor_args | layer.weight_args]
        data: dict[str, Any] = {}
        spans: dict[str, ast.Arg] = {}
        if layer.variadic:
            data[layer.variadic] = [v for v, _ in positional]
            if positional:
                spans[layer.variadic] = positional[0][1]
        else:
            if len(positional) > len(fields):
                raise self.reporter.error("E108", positional[len(fields)][1].span, layer=layer.name,
                                          limit=len(fields), count=len(positional))
            for (value, arg), fname in zip(positional, fields):
                data[fname] = value
                spans[fname] = arg
        for name, (value, arg) in named.items():
            if name not in layer.Args.model_fields:
                raise self.reporter.error("E105", arg.span, layer=layer.name, name=name,
                                          hint=did_you_mean(name, fields) or _arg_list(layer))
            if name in data:
                raise self.reporter.error("E115", arg.span, name=name, layer=layer.name)
            data[name] = value
            spans[name] = arg
        for fname, value in list(data.items()):
            if isinstance(value, Sym) or (isinstance(value, list) and any(isinstance(v, Sym) for v in value)):
                span = spans[fname].span if fname in spans else el.span
                raise self.reporter.error("E306", span, layer=layer.name, what=f"`{fname}`", value=value)
        try:
            return layer.Args(**data)
        except ValidationError as e:
            err = e.errors()[0]
            fname = str(err["loc"][0]) if err["loc"] else ""
            span = spans[fname].span if fname in spans else el.span
            if err["type"] == "missing":
                raise self.reporter.error("E106", el.span, layer=layer.name, name=fname,
                                          hint=f"`{layer.name}` {_arg_list(layer).removeprefix('it ')}" if fields else None) from None
            got = data.get(fname)
            raise self.reporter.error("E107", spans[fname].value.span if fname in spans else span, layer=layer.name,
                                      name=fname, expected=self._expected_words(layer, fname),
                                      got=_value_words(got)) from None

    def _layer_error(self, e: LayerError, el: ast.LayerCall) -> DiagnosticError:
        span = el.span
        if e.arg is not None:
            for arg in el.args or []:
                if arg.name == e.arg:
                    span = arg.span
        return self.reporter.error(e.code, span, e.hint, **e.fields)

    # ------------------------------------------------------------ block calls
    def block_call(self, el: ast.LayerCall, ref: BlockRef, ctx: Ctx, current: Current, label: str | None,
                   first: bool) -> Current:
        defn = ref.defn
        self.expanded.add(id(defn))
        if defn.name in self.block_stack:
            cycle = " → ".join(self.block_stack[self.block_stack.index(defn.name):] + [defn.name])
            raise self.reporter.error("E109", el.span, name=defn.name, cycle=cycle)
        if len(self.block_stack) >= MAX_BLOCK_DEPTH:
            raise self.reporter.error("E006", el.span, limit=MAX_BLOCK_DEPTH)
        positional, named = self._eval_args(el, ctx)
        if isinstance(current, Bundle):
            raise self.reporter.error("E312", el.span)
        if current is None:
            raise self._no_current(el, ctx)
        scope = ref.unit.globals.child()
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
        for p in defn.params:
            if p.name not in bound:
                if p.default is None:
                    raise self.reporter.error("E106", el.span, layer=defn.name, name=p.name)
                bound[p.name] = self.evaluate(p.default, scope)
            scope.define(p.name, bound[p.name], "parameter", p.span)
        scope.define("in", current, "in", el.span)
        owner = ctx.level.add(label)
        frame = self._push_frame("block", defn.name, owner, el.span, ctx.frame, el.note, label=label)
        self.block_stack.append(defn.name)
        try:
            inner = Ctx(scope, owner.sub, frame, ref.unit, ctx.in_model)
            result = self.body(defn.body, inner, current)
        finally:
            self.block_stack.pop()
        if isinstance(result, Bundle):
            raise self.reporter.error("E312", result.span or defn.body.span)
        return self._with_members(result, scope.labels())

    # ------------------------------------------------------------- structure
    def residual(self, el: ast.Residual, ctx: Ctx, current: Current) -> Current:
        if not isinstance(current, Value):
            raise self._no_current(ast.LayerCall(span=el.span, path=["residual"], args=None), ctx)
        main = self.body(el.body, ctx, current)
        short = self.body(el.shortcut, ctx, current) if el.shortcut is not None else current
        if not isinstance(main, Value) or not isinstance(short, Value):
            raise self.reporter.error("E312", el.span)
        if main.poisoned or short.poisoned:
            return POISON
        if main.type.shape != short.type.shape:
            raise self.reporter.error("E302", el.span, left=fmt_shape(main.type.shape), right=fmt_shape(short.type.shape))
        node = self._add_node("residual", "add", {}, (main.node, short.node), main.type, el.span, None, ctx,
                              name="@add", note=el.note, label="⊕")
        return Value(node, main.type, origin=f"the residual on line {el.span.line}")

    def parallel(self, el: ast.Parallel, ctx: Ctx, current: Current) -> Current:
        if not isinstance(current, Value):
            raise self._no_current(ast.LayerCall(span=el.span, path=["parallel"], args=None), ctx)
        branches = []
        for stmt in el.body.stmts:
            try:
                out = self.stmt(stmt, ctx, current)
            except DiagnosticError as e:
                self._absorb(e)
                out = POISON
            if not isinstance(stmt, ast.Let):
                branches.append(out if isinstance(out, Value) else POISON)
        return Bundle(branches, origin=f"the parallel on line {el.span.line}", span=el.span)

    def repeat(self, el: ast.Repeat, ctx: Ctx, current: Current, label: str | None) -> Current:
        n = self.evaluate(el.count, ctx.scope)
        if not is_concrete(n):
            raise self.reporter.error("E107", el.count.span, layer="repeat", name="count",
                                      expected="an integer", got=type_name(n))
        if n < 0:
            raise self.reporter.error("E304", el.count.span, what="the repeat count", value=n)
        if n > MAX_REPEAT:
            raise self.reporter.error("E404", el.count.span, what="the repeat count", value=n, limit=MAX_REPEAT)
        owner = ctx.level.add(label)
        frame = self._push_frame("repeat", label or "repeat", owner, el.span, ctx.frame, el.note, count=n)
        members: dict[str, Any] = {}
        sizes: list[int] = []  # nodes each pass added, to refuse a huge network before building it
        for k in range(n):
            if len(sizes) == 2 and len(self.b.nodes) + min(sizes) * (n - k) > MAX_NODES:
                raise self.reporter.error("E405", el.count.span, f"{n:,} passes of {min(sizes):,} layers or more each;"
                                          " check the `repeat` counts", limit=f"{MAX_NODES:,}")
            before = len(self.b.nodes)
            pass_el = owner.sub.add(fixed=str(k))
            scope = ctx.scope.child()
            if el.index is not None:
                scope.define(el.index, k, "index", el.span)
            pframe = self._push_frame("pass", str(k), pass_el, el.span, frame)
            inner = Ctx(scope, pass_el.sub, pframe, ctx.unit, ctx.in_model)
            current = self.body(el.body, inner, current)
            if k < 2:
                sizes.append(len(self.b.nodes) - before)
            members[str(k)] = Namespace(scope.labels())
            if isinstance(current, Value) and current.poisoned:
                break  # the same error would repeat in every pass
        return self._with_members(current, members)

    # ---------------------------------------------------------------- helpers
    def _check_definable(self, name: str, span: Span | None, ctx: Ctx, what: str) -> None:
        own = ctx.scope.names.get(name)
        if own is not None and own.kind in ("label", "constant", "input"):
            raise self.reporter.error("E103", span, name=name, line=own.span.line if own.span else 0)
        found = ctx.scope.lookup(name)
        if found is not None and found.kind in ("input", "parameter", "constant", "index", "block", "in"):
            kind = {"in": "block input"}.get(found.kind, found.kind)
            raise self.reporter.error("E104", span, name=name, what=kind)
        if name == "in":
            raise self.reporter.error("E104", span, name=name, what="block input")

    def _push_frame(self, kind: str, name: str, element: Element, span: Span, parent: int | None,
                    note: str | None = None, count: int | None = None, label: str | None = None) -> int:
        fid = len(self.b.frames)
        self.b.frames.append(dict(id=fid, kind=kind, name=name, parent=parent, span=span, count=count, note=note))
        self.b.frame_elements.append(element)
        return fid

    def _add_node(self, kind: str, layer: str, args: dict, inputs: tuple[int, ...], t: TensorType, span: Span,
                  element: Element | None, ctx: Ctx, *, name: str = "", params: int = 0, macs: Any = 0,
                  note: str | None = None, label: str = "", refs: dict[str, int] | None = None) -> int:
        if len(self.b.nodes) >= MAX_NODES:
            raise self.reporter.error("E405", span, limit=f"{MAX_NODES:,}")
        nid = len(self.b.nodes)
        self.b.nodes.append(Node(id=nid, kind=kind, layer=layer, name=name, args=args,
                                 inputs=inputs, refs=refs or {}, shape=t.shape, dtype=t.dtype, params=params,
                                 macs=macs, span=span, note=note, label=label, frame=ctx.frame,
                                 statement=self._statement))
        self.b.elements.append(element)
        return nid

    def _tensor(self, value: Any, expr: ast.Expr) -> Value:
        if not isinstance(value, Value):
            raise self.reporter.error("E116", expr.span, name=_expr_text(expr), what=type_name(value))
        return value


def _expr_text(e: ast.Expr) -> str:
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attr):
        return f"{_expr_text(e.obj)}.{e.attr}"
    return "output"


def _shape_words(t: TensorType) -> str:
    return "×".join(str(d) for d in t.shape)


def _arg_list(layer: Layer) -> str:
    names = list(layer.Args.model_fields)
    return "it takes " + ", ".join(f"`{n}`" for n in names) if names else "it takes no arguments"


def _describe_type(annotation: Any) -> str:
    text = str(annotation)
    words = []
    if "Literal" in text:
        import re
        words += [f'"{w}"' for w in re.findall(r"'([^']+)'", text)]
    if "list[int]" in text:
        words.insert(0, "an integer or a list of integers" if "int |" in text or text.startswith("int") else "a list of integers")
    elif "int" in text and "float" not in text:
        words.insert(0, "an integer")
    if "float" in text:
        words.insert(0, "a number")
    if "bool" in text:
        words.insert(0, "true or false")
    if "str" in text and "Literal" not in text:
        words.insert(0, "a string")
    if "None" in text:
        words.append("none")
    return " or ".join(words) if words else "a value"


def _value_words(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return f"{type_name(value)} ({value})"
    return type_name(value)
