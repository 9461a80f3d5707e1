"""What a layer is to the checker: arguments, shape rule, counts, label.

Stage: expansion calls a `Layer` found by name in `dsl.layers.REGISTRY`.
Each entry declares its number and option arguments as a strict pydantic
model and its tensor arguments (`memory=`, `init=`, `tie=`) beside it as
`TensorArg`s, infers its output type from its inputs, counts parameters and
multiply-accumulates, and names itself for diagrams. It raises `LayerError`
with an error code of `dsl.errors`; the expander turns that into a
diagnostic at the right span.
Nothing here knows torch (compiler/torch_layers/ is the other half).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import prod
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..dims import Dim, fmt_shape, is_concrete
from ..values import TensorType
from .facts import RecurrentCell


class LayerError(Exception):
    """A problem with one layer use. `arg` points the caret at that argument."""

    def __init__(self, code: str, arg: str | None = None, hint: str | None = None, **fields: Any):
        self.code = code
        self.arg = arg
        self.hint = hint
        self.fields = fields
        super().__init__(code)


class Args(BaseModel):
    """Base of every layer's argument model: strict types, no unknown names."""
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)  # built on first use


class NoArgs(Args):
    pass


@dataclass(frozen=True)
class TensorArg:
    """A named-only argument that takes a label instead of a number or option: `memory=enc`, `tie=wte`.

    It is no field of the layer's `Args`: its value arrives in `refs[name]`, a
    tensor's type, or with `weight` the shape of the `weight` the named layer
    shares (`tie=`). `none`, its default, leaves it out.
    """
    name: str
    weight: bool = False

    @property
    def expects(self) -> str:
        """What E107 says the argument must be."""
        if self.weight:
            return "the label of a layer with a weight, such as an embedding"
        return "a labelled tensor value"


# A family's colour class in diagrams (a layer may say its own with `Layer.tint`).
FAMILY_TINTS: Mapping[str, str] = MappingProxyType({"CNN": "conv", "RNN": "recurrent", "LSTM": "recurrent",
                                                    "Transformer": "attention"})


class Layer:
    name: ClassVar[str]
    Args: ClassVar[type[Args]] = NoArgs
    variadic: ClassVar[str | None] = None  # a field that collects all positional arguments
    # `Args` fields given by name only: options added after a layer's positional form was fixed, so an
    # existing call such as `linear(8, true, 3)` never binds its extra number to one of them.
    named_only: ClassVar[tuple[str, ...]] = ()
    merge: ClassVar[bool] = False  # takes several tensor operands
    constants: ClassVar[bool] = False  # a merge whose positional numbers are operands too (`mul(0.044)`)
    tensor_args: ClassVar[tuple[TensorArg, ...]] = ()  # named arguments that take a label, not in `Args`
    # LANGUAGE.md §5's table is generated from these two (`python -m archlang.dsl.layers.doc`).
    summary: ClassVar[str] = ""  # what it does, one line: the table's notes
    io: ClassVar[str] = ""  # what it reads and returns: "`[seq, F]` → `[seq, hidden·dirs]`", "shape kept"
    # The document's family a model belongs to when it uses this layer (`archlang compare`).
    family: ClassVar[str | None] = None
    # The diagram's colour class ("conv", "recurrent", "attention", "norm"); None: the family's, or plain.
    tint: ClassVar[str | None] = None
    # A merge's sign where the diagram joins branches (⊕); None: not a merge.
    symbol: ClassVar[str | None] = None
    # Each member (`enc.last`) in the reader's words, as the diagram's arrow says it.
    member_words: ClassVar[Mapping[str, str]] = MappingProxyType({})
    # The layout fact its result carries (`TensorType.channels_first`): "channels_first" for a
    # result of rank >= 2 (conv, pool, batchnorm), "kept" for the inputs' fact (activations,
    # merges, padding), "none" otherwise (reshape, permute, linear, and any layer that says nothing).
    layout: ClassVar[str] = "none"
    # Accepts `init_std=` (LANGUAGE.md §5): its weight matrices and tables drawn from N(0, std²), its
    # biases zero. One argument of the catalogue, not of each `Args`; the torch registry applies it.
    takes_init_std: ClassVar[bool] = False
    # Arguments that act only while training (dropout rates): two calls that differ in them build the
    # same network, so a diagram that shows the layers closed may fold them into one box (`CNBlock ×9`).
    training_only: ClassVar[tuple[str, ...]] = ()

    def colour_class(self) -> str | None:
        """What the diagram colours this layer as: its own `tint`, else its family's."""
        return self.tint or FAMILY_TINTS.get(self.family or "")

    def tensor_arg(self, name: str) -> TensorArg | None:
        return next((t for t in self.tensor_args if t.name == name), None)

    def argument_names(self) -> list[str]:
        """Every argument a call may name: the `Args` fields in order, then the tensor arguments."""
        return [*self.Args.model_fields, *(t.name for t in self.tensor_args),
                *(["init_std"] if self.takes_init_std else [])]

    # ---- the rules, overridden per layer
    def infer(self, a: Any, inputs: list[TensorType], refs: dict[str, TensorType]) -> TensorType:
        return inputs[0]

    def params(self, a: Any, inputs: list[TensorType], out: TensorType, refs: dict[str, TensorType]) -> int:
        return 0

    def macs(self, a: Any, inputs: list[TensorType], out: TensorType, refs: dict[str, TensorType]) -> Dim:
        return 0

    def steps(self, a: Any, inputs: list[TensorType]) -> Dim:
        """Operations that must run one after another (`archlang compare`); a recurrent layer walks its sequence."""
        return 1

    def kept(self, a: Any, inputs: list[TensorType], out: TensorType, refs: dict[str, TensorType]) -> Dim:
        """Elements a training step keeps for backward besides the output (attention's score matrices)."""
        return 0

    def buffers(self, args: Mapping[str, Any], inputs: list[tuple[Dim, ...]]) -> Dim:
        """Elements of the state a built layer keeps besides its parameters, in its `state_dict`
        (batchnorm's running statistics), from the node's recorded arguments and its input shapes."""
        return 0

    def weight(self, a: Any, inputs: list[TensorType], out: TensorType) -> tuple[int, ...] | None:
        """The shape of the `weight` another layer may share through `tie=`; None: nothing to share."""
        return None

    def members(self, a: Any, inputs: list[TensorType], out: TensorType) -> dict[str, TensorType]:
        """Extra results read off the value by name (`enc.last`, `enc.state`).

        The torch module of a layer with members returns a tuple: the value
        itself, then each member in this order.
        """
        return {}

    def recorded(self, a: Any, inputs: list[TensorType]) -> dict[str, Any]:
        """The arguments the checked node keeps for the back ends, every default that
        depends on the input resolved (concat's `dim`), so no back end decides it again."""
        return a.model_dump()

    def label(self, a: Any, x: TensorType | None) -> str:
        """The diagram's arrow label, e.g. `conv 3×3, 32`; `x` is the input. A merge says its sign."""
        return self.symbol or self.name

    def cell(self, args: Mapping[str, Any]) -> RecurrentCell | None:
        """One step opened into gates, from the checked node's arguments (the diagram's
        `--gates` and `--unroll`); None: the layer does not walk a sequence step by step."""
        return None

    # ---- helpers for the rules
    def rank_between(self, x: TensorType, lo: int, hi: int, words: str, hint: str | None = None) -> None:
        if not lo <= x.rank <= hi:
            raise LayerError("E301", hint=hint, layer=self.name, expected=words, got=fmt_shape(x.shape))

    def float_input(self, x: TensorType) -> None:
        if x.dtype != "float":
            raise LayerError("E308", layer=self.name, expected="a float", got=f"{x}",
                             hint="integer ids go through `embedding` first")


def per_axis(value: int | list[int], n: int, arg: str, layer: str) -> tuple[int, ...]:
    """An int or a list of ints spread over `n` spatial axes."""
    if isinstance(value, int):
        return (value,) * n
    if len(value) != n:
        raise LayerError("E107", arg=arg, layer=layer, name=arg, expected=f"an integer or a list of {n}",
                         got=f"a list of {len(value)}")
    return tuple(value)


def positive(values: Iterable[int], what: str, arg: str | None = None, zero_ok: bool = False) -> None:
    for v in values:
        if v < 0 or (v == 0 and not zero_ok):
            raise LayerError("E304", arg=arg, what=what, value=v)


def numel(shape: Iterable[Dim]) -> Dim:
    out: Dim = 1
    for d in shape:
        out = out * d
    return out


def concrete(d: Dim, layer: str, what: str) -> int:
    if not is_concrete(d):
        raise LayerError("E306", layer=layer, what=what, value=d)
    return d


__all__ = ["Args", "Layer", "LayerError", "NoArgs", "TensorArg", "TensorType", "concrete", "numel", "per_axis",
           "positive", "prod"]
