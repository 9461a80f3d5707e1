"""The lowering plan: what a checked graph becomes in torch, decided once.

Stage: after checking; `compiler.lower` executes the plan and
`compiler.codegen` prints it, so the two cannot disagree on which nodes
become modules, where those sit, what is tied, or how `forward` runs. The
plan is plain data and needs no torch: the one fact it takes from the torch
half of the catalogue — whether a layer use is *bare* — comes through the
catalogue it is given, looked up by layer name.

- `Element`: a layer node of §6 and its place: the module's path
  (`layer1.0.conv1`), or the root alias (a model of one unlabelled element
  *is* that element: path `()`); whether it is bare (one tensor kept as a
  plain parameter at its path, `class_token`); the parameters it takes from
  another element (`tie=`).
- Steps, one per value `forward` computes, in the graph's order: `Call`
  (run an element's module), `Bare` (compute from a bare parameter), `Pick`
  (one member of a multi-result layer, `enc.last`) and `Residual` (the
  implicit ⊕). Each step lists the values it reads last (`frees`), so
  `forward` can drop them; a model output is never freed.

Not here: building modules (the catalogue's builders), naming Python
variables and attributes (codegen's business).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from dsl.graph import ModelGraph

ModulePath = tuple[str, ...]


class LayerFacts(Protocol):
    """What the plan asks a torch catalogue entry (`compiler.torch_layers.TorchLayer`)."""

    def is_bare(self, args: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Tie:
    """`tie=`: the element's `param` is the owner element's tensor of that name, one Parameter under both."""

    param: str
    owner: int


@dataclass(frozen=True)
class Element:
    """A layer node: its module (or bare parameter) and where it is registered."""

    node: int
    layer: str
    path: ModulePath  # () for the root alias
    bare: bool = False
    ties: tuple[Tie, ...] = ()

    @property
    def is_root(self) -> bool:
        return not self.path


@dataclass(frozen=True)
class Call:
    """Run an element's module on values (and named tensor arguments: `memory=`, `init=`)."""

    node: int
    path: ModulePath  # the element's path; () calls the root alias
    inputs: tuple[int, ...]
    refs: tuple[tuple[str, int], ...] = ()
    multi: bool = False  # the module returns (value, *members); the value is the first
    frees: tuple[int, ...] = ()


@dataclass(frozen=True)
class Bare:
    """Compute a bare element from its input and the plain parameter at its path."""

    node: int
    path: ModulePath
    inputs: tuple[int, ...]
    frees: tuple[int, ...] = ()


@dataclass(frozen=True)
class Pick:
    """One member of a multi-result layer's result (`enc.last`): item `index` of its tuple."""

    node: int
    source: int
    index: int
    member: str
    frees: tuple[int, ...] = ()


@dataclass(frozen=True)
class Residual:
    """The implicit ⊕ of a residual: the sum of its two operands."""

    node: int
    path: ModulePath  # the name §6 gives the ⊕ (no module sits there)
    inputs: tuple[int, ...]
    frees: tuple[int, ...] = ()


Step = Call | Bare | Pick | Residual


@dataclass(frozen=True)
class Plan:
    elements: tuple[Element, ...]  # in the graph's order, which is the order modules are registered in
    steps: tuple[Step, ...]  # in the graph's order; inputs are no steps
    inputs: tuple[int, ...]  # the nodes of the model's inputs, in order
    outputs: tuple[int, ...]
    size: int  # nodes in the graph: a value slot for each

    @cached_property
    def _by_node(self) -> dict[int, Element]:
        return {e.node: e for e in self.elements}

    def element(self, node: int) -> Element:
        return self._by_node[node]

    @property
    def root_alias(self) -> Element | None:
        """The one element the model is, where it is one unlabelled element (§6)."""
        return next((e for e in self.elements if e.is_root), None)


def _path(name: str) -> ModulePath:
    return tuple(name.split(".")) if name else ()


def lowering_plan(graph: ModelGraph, catalogue: Mapping[str, LayerFacts]) -> Plan:
    """The plan of `graph`; `catalogue` is the torch half of the layer catalogue, found by layer name."""
    multi = graph.multi_result_nodes()
    used = graph.read_nodes()
    outputs = tuple(p.node for p in graph.outputs)
    elements: list[Element] = []
    kept = [n for n in graph.nodes if n.kind != "input" and not (n.kind == "member" and n.id not in used)]
    last_use: dict[int, int] = {}
    for n in kept:
        for j in n.reads:
            last_use[j] = n.id
    steps: list[Step] = []
    for n in kept:
        frees = tuple(j for j in dict.fromkeys(n.reads) if last_use[j] == n.id and j not in outputs)
        if n.kind == "member":
            steps.append(Pick(n.id, n.inputs[0], n.args["index"], n.args["member"], frees))
            continue
        if n.kind == "residual":
            steps.append(Residual(n.id, _path(n.name), n.inputs, frees))
            continue
        path = _path(n.name)
        bare = bool(path) and catalogue[n.layer].is_bare(n.args)
        ties = tuple(Tie(param, owner) for param, owner in n.shares.items())
        elements.append(Element(n.id, n.layer, path, bare, ties))
        if bare:
            steps.append(Bare(n.id, path, n.inputs, frees))
        else:
            steps.append(Call(n.id, path, n.inputs, tuple(n.refs.items()), n.id in multi, frees))
    return Plan(tuple(elements), tuple(steps), tuple(p.node for p in graph.inputs), outputs, len(graph.nodes))
