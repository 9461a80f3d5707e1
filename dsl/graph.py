"""The checked graph: what `check` proves and what every back end consumes.

Stage: the output of `dsl.expand`. Nodes come in topological order (their
ids are their positions); every size was inferred here, so lowering to torch,
summaries and diagrams never infer a shape again. Frames record which block
call, repeat or group a node came from, for folding diagrams, and what a
block call's parameters were bound to, for codegen's constructor arguments.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .dims import fmt_shape
from .source import Span


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class Port(_Model):
    name: str
    node: int
    shape: tuple[Any, ...]  # ints and symbolic sizes, batch excluded
    dtype: str = "float"

    def __str__(self) -> str:
        return (self.dtype if self.dtype != "float" else "") + fmt_shape(self.shape)


class Frame(_Model):
    id: int
    kind: str  # "block" | "repeat" | "pass" | "group" | "chain"
    name: str  # the block's name, or the label
    path: str  # parameter path of the frame's level
    parent: int | None
    span: Span
    count: int | None = None  # passes of a repeat
    note: str | None = None
    # A block frame's parameters as bound at its call, in declared order, defaults filled in: the values the
    # checker held (ints, floats, bools, strings, None, symbolic sizes, lists of them). A parameter given a
    # tensor (§3: an input or a label, as a decoder layer's `memory`) is left out: a tensor is no constant a
    # back end could write down. Other kinds of frame have none.
    args: dict[str, Any] = {}


NodeKind = Literal["input", "layer", "member", "residual"]


class Node(_Model):
    id: int
    # "layer": a catalogue layer (`layer` is its name); "input": a model input;
    # "member": one result of a multi-result layer (`enc.last`, `layer` is "pick");
    # "residual": the implicit ⊕ of a residual (`layer` is "add", not an element of §6).
    kind: NodeKind
    layer: str  # the catalogue name; "input" and "pick" for the two kinds that are no layer
    name: str  # parameter path ("layer1.0.conv1"); "" for a collapsed root element
    args: dict[str, Any]
    inputs: tuple[int, ...]
    refs: dict[str, int] = {}  # named tensor arguments (memory=, init=)
    shares: dict[str, int] = {}  # parameters owned by another node (`tie=`: {"weight": the embedding})
    shape: tuple[Any, ...]
    dtype: str = "float"
    params: int = 0
    macs: Any = 0  # int, or a symbolic size
    span: Span
    note: str | None = None
    label: str = ""  # diagram label on the arrow
    frame: int | None = None
    statement: int = -1  # the source statement (one `->` chain) that made the node; -1 for inputs

    @property
    def element(self) -> bool:
        """Named by §6: a layer's node (an input, a member and a residual's ⊕ are not elements)."""
        return self.kind == "layer"

    @property
    def shape_text(self) -> str:
        return fmt_shape(self.shape)

    @property
    def reads(self) -> tuple[int, ...]:
        """The values the node computes from: its operands, then its named tensor arguments."""
        return (*self.inputs, *self.refs.values())


class ModelGraph(_Model):
    name: str
    file: str
    params_used: dict[str, Any]
    inputs: list[Port]
    outputs: list[Port]
    nodes: list[Node]
    frames: list[Frame]
    params: int
    macs: Any  # Dim
    symbols: tuple[str, ...] = ()

    def node(self, i: int) -> Node:
        return self.nodes[i]

    def read_nodes(self) -> set[int]:
        """The nodes whose value something uses: another node, or an output."""
        return {j for n in self.nodes for j in n.reads} | {p.node for p in self.outputs}

    def multi_result_nodes(self) -> set[int]:
        """The nodes whose layer returns its members too (`enc.last` picks one): their modules return tuples."""
        return {n.inputs[0] for n in self.nodes if n.kind == "member"}
