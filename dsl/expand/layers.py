"""Applying a catalogue layer in a chain: operands, arguments, rule, node.

Stage: expansion, from `dsl.expand.calls` once a name is known to be a
layer. `Layers.apply` runs the steps in order: gather the operands (the
current value; for a merge also a parallel's branches and the tensors
given), take out the tensor arguments the layer declares (`memory=`,
`init=`, `tie=`), bind the rest to its `Args`, ask the layer for its output
type, counts and label (a `LayerError` becomes a diagnostic at the argument
to blame), refuse sizes beyond the limits, and record the node with one
pick node per member (`enc.last`). The layer rules themselves live in
`dsl.layers`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import ast
from ..diagnostics import DiagnosticError
from ..dims import Dim, is_concrete
from ..evaluate import type_name
from ..layers import Layer, LayerError
from ..values import POISON, Bundle, TensorType, Value
from .arguments import Named, Positional, bind, expected_words, value_words
from .reuse import NotPlain, plain
from .state import Ctx, Current, expr_text

if TYPE_CHECKING:
    from .statements import Walker

MAX_PARAMS = 10**13
MAX_DIM = 2**40

# What the rules said of each plain use of a layer (`Layers._use_key`: the catalogue entry, the arguments
# as written, the input's type), with the arguments its node records and whether those hold lists. Kept
# for the whole process: binding and the rules are pure functions of the key, a use that fails is never
# kept (its error is raised, and reported again at the next check), and an editor rechecking a spec asks
# the same questions every time. A change made to a catalogue entry while the process runs (a test's
# monkeypatch of `infer` or `label`) is not seen by a use already kept: `forget_layer_uses()` clears it.
_USES: dict[tuple, tuple[Any, dict[str, Any], bool]] = {}
MAX_USES = 4096  # then it starts again: a long session of many specs keeps no more than this


def forget_layer_uses() -> None:
    """Clear the process's memo of plain layer uses (after changing a catalogue entry at run time)."""
    _USES.clear()


@dataclass
class _Tensors:
    """The values a call hands a layer: operands, tensor arguments (`refs`) and the layers whose weight it shares."""
    operands: list[Value]
    refs: dict[str, Value]
    shares: dict[str, Value]

    @property
    def poisoned(self) -> bool:
        return any(v.poisoned for v in [*self.operands, *self.refs.values(), *self.shares.values()])


@dataclass
class _Rule:
    """What the layer's rules say of this use."""
    out: TensorType
    params: int
    macs: Dim
    label: str
    members: dict[str, TensorType]
    weight: tuple[int, ...] | None


def _args_key(positional: Positional, named: Named) -> tuple:
    """A call's argument values as a key (`plain`); raises `NotPlain` for a tensor or anything unhashable."""
    return (tuple([plain(v) for v, _ in positional]),
            tuple([(k, plain(v)) for k, (v, _) in named.items()]) if named else ())


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Layers:
    def __init__(self, walker: Walker) -> None:
        self.walk = walker
        self.reporter = walker.reporter
        self.build = walker.build
        # The rules' answers by (layer, arguments, operand types, tensor-argument types): a repeated
        # block asks the same questions again (ResNet-50's 53 convolutions ask about 20).
        self._rules: dict[tuple, tuple[_Rule, dict[str, Any]]] = {}
        self._args: dict[tuple, Any] = {}  # bound `Args` by layer and argument values (`_bind`)

    def apply(self, el: ast.LayerCall, layer: Layer, ctx: Ctx, current: Current, label: str | None, first: bool,
              positional: Positional, named: Named) -> Current:
        use = self._use_key(layer, current, positional, named)
        if use is not None:
            known = _USES.get(use)
            if known is None:
                # The plainest use (see `_use_key`): one operand, no tensor argument, no `init_std=`, so
                # the steps for those have nothing to do; its arguments' key is the use's own.
                args = self._bind(layer, el, positional, named, use[1])
                rule, recorded = self._rules_for(el, layer, args, [current.type], {})
                known = (rule, recorded, any(isinstance(v, (list, dict)) for v in recorded.values()))
                if len(_USES) >= MAX_USES:
                    _USES.clear()
                _USES[use] = known
            rule, recorded, nested = known
            # Each node gets arguments of its own, down to their lists: a caller may change a graph it was given.
            recorded = copy.deepcopy(recorded) if nested else dict(recorded)
            return self._record(el, layer, recorded, (current.node,), None, rule, ctx, label)
        if any(isinstance(v, Value) and v.poisoned for v, _ in [*positional, *named.values()]):
            return POISON  # an argument failed upstream; its error is already reported
        operands, positional = self._operands(el, layer, ctx, current, first, positional)
        refs, shares, named = self._tensor_args(layer, named)
        init, named = self._init_std(layer, named)
        self._no_positional_tensors(layer, positional)
        args = self._bind(layer, el, positional, named)
        tensors = _Tensors(operands, refs, shares)
        if tensors.poisoned:
            return POISON
        rule, recorded = self._infer(el, layer, args, tensors)
        return self._record(el, layer, {**recorded, **init}, tuple([v.node for v in tensors.operands]), tensors,
                            rule, ctx, label)

    @staticmethod
    def _use_key(layer: Layer, current: Current, positional: Positional, named: Named) -> tuple | None:
        """What the steps of `apply` before `_record` depend on, for the plainest use: one operand,
        the current value, and arguments that are all numbers, strings, booleans or lists (no tensor,
        no `init_std=`). None for any other use, which takes every step."""
        if layer.merge or layer.tensor_args or type(current) is not Value or current.type is None \
                or "init_std" in named:
            return None
        try:
            args = _args_key(positional, named)
        except NotPlain:
            return None
        t = current.type
        return (layer, args, t.shape, t.dtype, t.channels_first)

    def _bind(self, layer: Layer, el: ast.LayerCall, positional: Positional, named: Named,
              key: tuple | None = None) -> Any:
        """`bind`, memoised per model on the argument values (Args are frozen): a repeated block binds
        `batchnorm` or `conv(64, 1, bias=false)` again and again, and pydantic's validation is most of it.
        `key` is the arguments' key where the caller has made it already (`_args_key`)."""
        if key is None:
            try:
                key = _args_key(positional, named)
            except NotPlain:
                return bind(self.reporter, layer, el, positional, named)
        args = self._args.get((layer.name, key))
        if args is None:
            args = self._args[(layer.name, key)] = bind(self.reporter, layer, el, positional, named)
        return args

    def _init_std(self, layer: Layer, named: Named) -> tuple[dict[str, float], Named]:
        """`init_std=` taken out where the layer has weights to draw (`Layer.takes_init_std`): a positive
        number, or none for torch's own initialisation. Elsewhere it stays, and binding calls it unknown."""
        if not layer.takes_init_std or "init_std" not in named:
            return {}, named
        rest = dict(named)
        value, arg = rest.pop("init_std")
        if value is None:
            return {}, rest
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise self.reporter.error("E107", arg.value.span, layer=layer.name, name="init_std",
                                      expected="a positive number or none", got=value_words(value))
        return {"init_std": float(value)}, rest

    def _operands(self, el: ast.LayerCall, layer: Layer, ctx: Ctx, current: Current, first: bool,
                  positional: Positional) -> tuple[list[Value], Positional]:
        """The tensors the layer works on, and the positional arguments left for its `Args`."""
        if not layer.merge:
            if isinstance(current, Bundle):
                raise self.reporter.error("E312", el.span)
            if current is None:
                raise self.walk.no_current(el.span, el.name, ctx)
            return [current], positional
        operands: list[Value] = []
        if isinstance(current, Bundle) and not first:
            operands = list(current.values)
        elif isinstance(current, Value) and not first:
            operands = [current]
        given = [v for v, _ in positional if isinstance(v, Value)]
        if first and len(given) < 2 and isinstance(current, Value):
            operands = [current]  # `add(skip)` opening a statement merges into the current value
        operands += given
        rest = [(v, a) for v, a in positional if not isinstance(v, Value)]
        # `add(k)`: k must name a value, or a number where the merge takes one (`mul(0.044)`).
        odd = [(v, a) for v, a in rest if not (layer.constants and _number(v))] if layer.constants else rest
        if odd and (layer.constants or not layer.Args.model_fields):
            value, arg = odd[0]
            written = expr_text(arg.value) if isinstance(arg.value, (ast.Name, ast.Attr)) else value_words(value)
            raise self.reporter.error("E116", arg.value.span, name=written, what=type_name(value))
        return operands, rest

    def _tensor_args(self, layer: Layer, named: Named) -> tuple[dict[str, Value], dict[str, Value], Named]:
        """Take the layer's tensor arguments out of `named`: values read (`refs`) and weights shared."""
        refs: dict[str, Value] = {}
        shares: dict[str, Value] = {}
        rest: Named = {}
        for name, (value, arg) in named.items():
            declared = layer.tensor_arg(name)
            is_value = isinstance(value, (Value, Bundle))
            if declared is not None and value is None:
                continue  # `memory=none`, the default: as if not given
            if declared is not None and not is_value:
                raise self.reporter.error("E107", arg.value.span, layer=layer.name, name=name,
                                          expected=declared.expects, got=value_words(value))
            if declared is not None and declared.weight:
                shares[name] = self._shared_weight(value, arg)
            elif declared is not None:
                refs[name] = value
            elif is_value and name in layer.Args.model_fields:
                raise self.reporter.error("E107", arg.value.span, layer=layer.name, name=name,
                                          expected=expected_words(layer, name), got="a tensor value")
            else:
                rest[name] = (value, arg)  # an unknown name is E105 when the rest is bound
        return refs, shares, rest

    def _no_positional_tensors(self, layer: Layer, positional: Positional) -> None:
        """Tensor arguments are named only (`memory=enc`): a value in a position is E107."""
        for value, arg in positional:
            if isinstance(value, (Value, Bundle)):
                raise self.reporter.error("E107", arg.value.span, layer=layer.name, name="(positional)",
                                          expected="a number or option", got="a tensor value")

    def _shared_weight(self, value: Value | Bundle, arg: ast.Arg) -> Value:
        """The layer a `tie=` names: its value must come straight from a layer with a weight."""
        if isinstance(value, Value) and (value.poisoned or value.node in self.build.weights):
            return value
        what = value.origin if isinstance(value, Value) else "the branches of a `parallel`"
        raise self.reporter.error("E320", arg.value.span, what=f"`{expr_text(arg.value)}`, {what}")

    def _infer(self, el: ast.LayerCall, layer: Layer, args: Any, tensors: _Tensors) -> tuple[_Rule, dict[str, Any]]:
        """The layer's rules applied (output type, counts within the limits, label, members, shared weight),
        and the arguments its node records; memoised per model, the rules being pure."""
        types = [v.type for v in tensors.operands]
        refs = {k: v.type for k, v in tensors.refs.items()}
        refs |= {k: TensorType(self.build.weights[v.node]) for k, v in tensors.shares.items()}
        try:
            # The values' types too: 1 == 1.0 == true, but a node records what was written.
            key: tuple | None = (layer.name, args, tuple(map(type, args.__dict__.values())), tuple(types),
                                 tuple(t.channels_first for t in types), tuple(refs.items()))
            known = self._rules.get(key)
        except TypeError:  # an argument that cannot be hashed (a list): ask the rules every time
            key = known = None
        if known is None:
            known = self._rules_for(el, layer, args, types, refs)
            if key is not None:
                self._rules[key] = known
        rule, recorded = known  # within the limits: `_rules_for` refuses a rule beyond them before it is kept
        return rule, dict(recorded)

    def _rules_for(self, el: ast.LayerCall, layer: Layer, args: Any, types: list[TensorType],
                   refs: dict[str, TensorType]) -> tuple[_Rule, dict[str, Any]]:
        try:
            out = self._layout(layer, types, layer.infer(args, types, refs))
            params = layer.params(args, types, out, refs)
            macs = layer.macs(args, types, out, refs)
            label = layer.label(args, types[0] if types else None)
        except LayerError as e:
            raise self._layer_error(e, el) from None
        self._limits(el, layer, out, params)
        try:
            rule = _Rule(out, params, macs, label, layer.members(args, types, out), layer.weight(args, types, out))
            return rule, layer.recorded(args, types)
        except LayerError as e:
            raise self._layer_error(e, el) from None

    @staticmethod
    def _layout(layer: Layer, types: list[TensorType], out: TensorType) -> TensorType:
        """The result's layout fact, as the layer declares it (`Layer.layout`)."""
        if layer.layout == "channels_first":
            fact = out.rank >= 2
        elif layer.layout == "kept":
            fact = any(t.channels_first for t in types)
        else:
            fact = False
        return out if out.channels_first == fact else TensorType(out.shape, out.dtype, fact)

    def _layer_error(self, e: LayerError, el: ast.LayerCall) -> DiagnosticError:
        span = el.span
        if e.arg is not None:
            for arg in el.args or []:
                if arg.name == e.arg:
                    span = arg.span
        return self.reporter.error(e.code, span, e.hint, **e.fields)

    def _limits(self, el: ast.LayerCall, layer: Layer, out: TensorType, params: int) -> None:
        if params > MAX_PARAMS:
            raise self.reporter.error("E404", el.span, what=f"the parameter count of {layer.name}",
                                      value=f"{params:,}", limit=f"{MAX_PARAMS:,}")
        for d in out.shape:
            if (type(d) is int or is_concrete(d)) and d > MAX_DIM:
                raise self.reporter.error("E404", el.span, what="a dimension", value=f"{d:,}", limit=f"{MAX_DIM:,}")

    def _record(self, el: ast.LayerCall, layer: Layer, recorded: dict[str, Any], inputs: tuple[int, ...],
                tensors: _Tensors | None, rule: _Rule, ctx: Ctx, label: str | None) -> Value:
        """The layer's node, a pick node per member, and the value they make. `inputs` are the operands'
        nodes; `tensors` the values the call was given, None for a plain use (one operand, nothing else)."""
        # What a layer can share is its `weight`, through its one weight argument (`tie=`).
        shares = {"weight": next(iter(tensors.shares.values())).node} if tensors and tensors.shares else {}
        refs = {k: v.node for k, v in tensors.refs.items()} if tensors and tensors.refs else {}
        build = self.build
        node = build.add_node("layer", layer.name, recorded, inputs, rule.out, el.span, ctx.level.add(label), ctx,
                              params=rule.params, macs=rule.macs, note=el.note, label=rule.label, refs=refs,
                              shares=shares)
        if rule.weight is not None:
            build.weights[node] = rule.weight
        origin = f"the {layer.name} on line {el.span.line}"
        value = Value(node, rule.out, origin)
        if rule.members:
            for index, (name, t) in enumerate(rule.members.items(), start=1):
                pick = build.add_node("member", "pick", {"index": index, "member": name}, (node,), t, el.span,
                                      None, ctx, name=f"@{name}", label=f".{name}")
                value.members[name] = Value(pick, t, origin=f"`.{name}` of {origin}")
        return value
