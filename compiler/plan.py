"""The lowering plan: what a checked graph becomes in torch, decided once.

Stage: after checking; `compiler.lower` executes the plan and
`compiler.codegen` prints it, so the two cannot disagree on which nodes
become modules, where those sit, what is tied, or how `forward` runs. The
plan is plain data and needs no torch: the facts it takes from the torch
half of the catalogue — whether a layer use is *bare*, whether its output
is fresh, whether its module can run in place — come through the catalogue
it is given, looked up by layer name.

- `Element`: a layer node of §6 and its place: the module's path
  (`layer1.0.conv1`), or the root alias (a model of one unlabelled element
  *is* that element: path `()`); whether it is bare (one tensor kept as a
  plain parameter at its path, `class_token`); the parameters it takes from
  another element (`tie=`); whether its module runs in place (`inplace`:
  `nn.ReLU(inplace=True)`), granted only where overwriting its input cannot
  change a result or a gradient (`_in_place`).
- Steps, one per value `forward` computes, in the graph's order: `Call`
  (run an element's module), `Bare` (compute from a bare parameter), `Pick`
  (one member of a multi-result layer, `enc.last`) and `Residual` (the
  implicit ⊕). Each step lists the values it reads last (`frees`), so
  `forward` can drop them; a model output is never freed. A multi-result
  layer's value is its whole tuple (`multi`); its readers take item 0.
- `Block`: the module tree. Every level of §6 that holds modules (a block
  call, a labelled group, a repeat and each of its passes) is a module with
  its own `forward` over the values it reads (`inputs`, named by `args`),
  returning what the outside reads of it (`outputs`, its result first). Its
  `steps` are its own, a sub-block's run as one `Enter`; `Plan.blocks[0]` is
  the model. A level whose children run one after another on one value is
  `sequential` (an `nn.Sequential`, as torchvision's `layer1`); a level whose
  steps the graph interleaves with outer ones stays a plain container, its
  steps run by the block around it.

Not here: building modules (the catalogue's builders), naming Python
variables and attributes (codegen's business).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Protocol

from archlang.dsl.graph import ModelGraph, Node

ModulePath = tuple[str, ...]


class LayerFacts(Protocol):
    """What the plan asks a torch catalogue entry (`compiler.torch_layers.TorchLayer`)."""

    in_place: bool

    def is_bare(self, args: Mapping[str, Any]) -> bool: ...

    def is_fresh(self, node: Node) -> bool: ...


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
    inplace: bool = False  # its module overwrites its input (`nn.ReLU(inplace=True)`): no one else sees it

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
class Enter:
    """Run a sub-block's module on the values it reads; it gives back `outputs` (one value: not a tuple)."""

    block: int  # index in `Plan.blocks`
    path: ModulePath
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    frees: tuple[int, ...] = ()


BlockStep = Step | Enter


@dataclass(frozen=True)
class Block:
    """One module of the tree with a forward: the model (path `()`), a block call, group, repeat or pass."""

    path: ModulePath
    cls: str  # its class name: the block's (`BasicBlock`), the label's (`Transformer`), `Sequential`
    args: tuple[str, ...]  # forward's argument names, one per input
    inputs: tuple[int, ...]  # the outer values it reads, in the order it first reads them
    outputs: tuple[int, ...]  # the values the outside reads of it, its result first
    steps: tuple[BlockStep, ...]
    sequential: bool = False  # its steps run its children `0`, `1`, ... one after another on one value


@dataclass(frozen=True)
class Plan:
    elements: tuple[Element, ...]  # in the graph's order, which is the order modules are registered in
    steps: tuple[Step, ...]  # in the graph's order; inputs are no steps
    inputs: tuple[int, ...]  # the nodes of the model's inputs, in order
    outputs: tuple[int, ...]
    size: int  # nodes in the graph: a value slot for each
    blocks: tuple[Block, ...] = ()  # the module tree, the model first, every block before its sub-blocks
    multi: frozenset[int] = frozenset()  # values that are a tuple (a layer that returns its members too)

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


def lowering_plan(graph: ModelGraph, catalogue: Mapping[str, LayerFacts], inplace: bool = True) -> Plan:
    """The plan of `graph`; `catalogue` is the torch half of the layer catalogue, found by layer name.

    `inplace=False`: no module runs in place (a test compares the two)."""
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
    inputs = tuple(p.node for p in graph.inputs)
    if inplace:
        granted = _in_place(graph, steps, inputs, outputs, catalogue)
        elements = [replace(e, inplace=True) if e.node in granted else e for e in elements]
    blocks = _Tree(graph, elements, steps, inputs, outputs).blocks()
    return Plan(tuple(elements), tuple(steps), inputs, outputs, len(graph.nodes), blocks, frozenset(multi))


def _in_place(graph: ModelGraph, steps: list[Step], inputs: tuple[int, ...], outputs: tuple[int, ...],
              catalogue: Mapping[str, LayerFacts]) -> set[int]:
    """The elements that may overwrite their input: nothing else can see it, and the backward needs it not.

    Their one input is read by them alone (no other step, no named argument, no block's caller: a value a
    block gives out has a reader outside it), is no model input or output, and is made fresh by its
    producer: a residual's ⊕ or a layer whose catalogue entry says so (conv, the norms, linear, a sum).
    """
    readers: dict[int, int] = {}
    for s in steps:
        for j in _reads(s):
            readers[j] = readers.get(j, 0) + 1
    made = {s.node: s for s in steps}
    granted: set[int] = set()
    for s in steps:
        if not isinstance(s, Call) or s.refs or s.multi or len(s.inputs) != 1:
            continue
        n = graph.node(s.node)
        j = s.inputs[0]
        if not catalogue[n.layer].in_place or readers[j] != 1 or j in inputs or j in outputs:
            continue
        src = made.get(j)
        if isinstance(src, Residual) or isinstance(src, Call) and not src.multi and not src.refs and (
                catalogue[graph.node(j).layer].is_fresh(graph.node(j))):
            granted.add(s.node)
    return granted


# ---------------------------------------------------------------- the module tree


def _reads(s: BlockStep) -> tuple[int, ...]:
    if isinstance(s, Pick):
        return (s.source,)
    if isinstance(s, Call):
        return (*s.inputs, *(j for _, j in s.refs))
    return s.inputs


def _made(s: BlockStep) -> tuple[int, ...]:
    return s.outputs if isinstance(s, Enter) else (s.node,)


def _camel(label: str) -> str:
    name = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z]+", label) if w)
    return name if name[:1].isalpha() else "Block" + name


_CLASS_OF = {"block": 0, "group": 1, "chain": 1, "repeat": 2, "pass": 3}


class _Tree:
    """The module tree of a plan's steps: which level runs which step, what each level reads and gives back."""

    def __init__(self, graph: ModelGraph, elements: list[Element], steps: list[Step],
                 inputs: tuple[int, ...], outputs: tuple[int, ...]):
        self.g = graph
        self.steps = steps
        self.model_inputs = inputs
        self.model_outputs = outputs
        levels = {e.path[:i] for e in elements for i in range(1, len(e.path))}

        def level_of(path: ModulePath) -> ModulePath:
            return next((path[:k] for k in range(len(path) - 1, 0, -1) if path[:k] in levels), ())

        home: dict[int, ModulePath] = {s.node: level_of(s.path) for s in steps if not isinstance(s, Pick)}
        readers: dict[int, list[ModulePath]] = {}
        for s in steps:
            for j in _reads(s):
                readers.setdefault(j, []).append(home.get(s.node, ()))
        for s in steps:
            if isinstance(s, Pick):  # where its source and every reader are: the source's level gives it out
                where = home[s.source]
                for r in (*readers.get(s.node, ()), *(() for o in outputs if o == s.node)):
                    k = 0
                    while k < min(len(where), len(r)) and where[k] == r[k]:
                        k += 1
                    where = where[:k]
                home[s.node] = where
        self.home = home
        self.position = {s.node: i for i, s in enumerate(steps)}
        self.within: dict[ModulePath, list[int]] = {}  # level → positions of the steps at or below it
        for i, s in enumerate(steps):
            h = home[s.node]
            for k in range(1, len(h) + 1):
                self.within.setdefault(h[:k], []).append(i)
        # A level the graph interleaves with outer steps cannot run as one call: it stays a container.
        self.kept = {p for p, at in self.within.items() if at[-1] - at[0] + 1 == len(at)}
        self.frames: dict[str, list] = {}
        for f in graph.frames:
            self.frames.setdefault(f.path, []).append(f)
        # Where each value is read, as the first and last reading step's position: a run of steps gives a
        # value out when a reader lies outside it. Found once here, so `_io` costs its run's length only.
        self.reads = [_reads(s) for s in steps]
        self.read_span: dict[int, tuple[int, int]] = {}
        for i, rs in enumerate(self.reads):
            for j in rs:
                first, _ = self.read_span.get(j, (i, i))
                self.read_span[j] = (first, i)
        self.ios: dict[tuple[int, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self.out: list[Block | None] = []

    def blocks(self) -> tuple[Block, ...]:
        self._block((), tuple(range(len(self.steps))))
        return tuple(b for b in self.out if b is not None)

    def _child(self, level: ModulePath, node: int) -> ModulePath | None:
        """The kept level just below `level` that runs `node`'s step, or None when `level` runs it itself."""
        h = self.home[node]
        return next((h[:k] for k in range(len(level) + 1, len(h) + 1) if h[:k] in self.kept), None)

    def _io(self, positions: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """What the run of steps at `positions` reads from before it, and what it gives to steps outside it."""
        known = self.ios.get(positions)
        if known is not None:
            return known
        lo, hi = positions[0], positions[-1]
        made = {self.steps[i].node for i in positions}
        inputs = tuple(dict.fromkeys(j for i in positions for j in self.reads[i] if j not in made))
        outside = set(self.model_outputs)
        span = self.read_span
        outs = []
        for i in positions:
            node = self.steps[i].node
            first, last = span.get(node, (lo, lo))
            if node in outside or first < lo or last > hi:
                outs.append(node)
        result = self.steps[hi].node
        if result in outs:  # the block's result first, then the members read later
            outs.remove(result)
            outs.insert(0, result)
        self.ios[positions] = inputs, tuple(outs)
        return self.ios[positions]

    def _args(self, inputs: tuple[int, ...]) -> tuple[str, ...]:
        names: list[str] = []
        for k, j in enumerate(inputs):
            n = self.g.node(j)
            base = "x" if k == 0 and n.kind != "input" else re.sub(r"\W", "_", n.name)
            if not base.isidentifier() or keyword.iskeyword(base) or base == "self":
                base = f"x{k}"
            cand, i = base, 2
            while cand in names:
                cand, i = f"{base}_{i}", i + 1
            names.append(cand)
        return tuple(names)

    def _class(self, level: ModulePath) -> str:
        frames = sorted(self.frames.get(".".join(level), ()), key=lambda f: _CLASS_OF.get(f.kind, 9))
        if not frames:
            return _camel(level[-1]) if level else _camel(self.g.name)
        f = frames[0]
        if f.kind == "block":
            return f.name
        if f.kind == "pass":
            parent = self.g.frames[f.parent] if f.parent is not None else None
            return _camel(parent.name if parent is not None else "repeat") + "Pass"
        return _camel(f.name)

    def _block(self, level: ModulePath, positions: tuple[int, ...]) -> int:
        index = len(self.out)
        self.out.append(None)
        inputs, outputs = self._io(positions) if level else (self.model_inputs, self.model_outputs)
        own: list[BlockStep] = []
        k = 0
        while k < len(positions):
            s = self.steps[positions[k]]
            child = self._child(level, s.node)
            if child is None:
                own.append(s)
                k += 1
                continue
            run = tuple(self.within[child])
            sub_in, sub_out = self._io(run)
            sub = self._block(child, run)
            own.append(Enter(sub, child, sub_in, sub_out))
            k += len(run)
        reads = [_reads(s) for s in own]
        last: dict[int, int] = {}
        for i, rs in enumerate(reads):
            for j in rs:
                last[j] = i
        for i, s in enumerate(own):
            frees = tuple(j for j in dict.fromkeys(reads[i]) if last[j] == i and j not in outputs)
            if frees != s.frees:  # most steps free here what they free in the whole graph: kept as they are
                own[i] = replace(s, frees=frees)
        sequential = bool(level) and self._sequential(level, own, inputs, outputs)
        cls = "Sequential" if sequential else self._class(level)
        self.out[index] = Block(level, cls, self._args(inputs), inputs, outputs, tuple(own), sequential)
        return index

    def _sequential(self, level: ModulePath, own: list[BlockStep], inputs: tuple[int, ...],
                    outputs: tuple[int, ...]) -> bool:
        """Its children `0`, `1`, ... each read only the one before: an `nn.Sequential` runs them."""
        current = inputs
        if len(inputs) != 1:
            return False
        for k, s in enumerate(own):
            if isinstance(s, (Bare, Residual, Pick)) or isinstance(s, Call) and (s.multi or s.refs):
                return False
            if s.path != (*level, str(k)) or _reads(s) != current:
                return False
            current = _made(s)
            if len(current) != 1:
                return False
        return current == outputs
