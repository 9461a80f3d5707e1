"""`archlang compare`: the document's trade-offs table, measured on specs.

Stage: after checking; needs no torch. The architectures document sums up
its families in a table of words ("RNN: vanishing gradients, slow";
"Transformer: parallelizable, expensive compute"). This module puts numbers
on those words for any set of checked graphs at one stated input size:

- parameters and multiply-accumulates per sample;
- sequential steps: the longest chain of operations that must run one after
  another. A layer is one step, except a recurrent layer, which walks its
  sequence: `seq` steps for each stacked layer (both directions of a
  bidirectional layer run at once). Attention sees every position at once,
  so it is one step — the document's "parallelizable";
- activations: the bytes of every layer's output for one sample (float32),
  which a training step keeps for its backward pass, plus each attention's
  `heads × seq × seq` score matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archlang.dsl.dims import Dim, Sym, is_concrete
from archlang.dsl.graph import ModelGraph, Node
from archlang.dsl.layers import REGISTRY
from archlang.dsl.layers.base import numel
from archlang.dsl.values import TensorType

from .report import human

BYTES = {"float": 4, "int": 8}

# The document's §7 words for each family: what it is best for.
BEST_FOR = {
    "CNN": "images",
    "RNN": "sequences",
    "LSTM": "long sequences",
    "Transformer": "NLP, vision, multi-modal",
    "MLP": "fixed-size vectors",
}


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    family: str
    params: int
    macs: Dim
    steps: Dim
    activations: Dim  # bytes per sample

    def at(self, sizes: dict[str, int]) -> Profile:
        """The same figures with the symbolic sizes given values."""
        def fill(x: Dim) -> Dim:
            return x.substitute(sizes) if isinstance(x, Sym) else x
        return replace(self, macs=fill(self.macs), steps=fill(self.steps), activations=fill(self.activations))


# A model with layers of several families belongs to the last of them here.
FAMILIES = ("MLP", "CNN", "RNN", "LSTM", "Transformer")


def family(g: ModelGraph) -> str:
    """The document's family of a model: the most capable kind of layer it uses."""
    found = {getattr(REGISTRY.get(n.layer), "family", None) for n in g.nodes}
    return max(found & set(FAMILIES), key=FAMILIES.index, default="MLP")


def _use(g: ModelGraph, n: Node):
    """The catalogue entry of a layer node with its arguments and operand types; None for inputs and picks."""
    layer = REGISTRY.get(n.layer)
    if layer is None:
        return None

    def typed(j: int) -> TensorType:
        return TensorType(g.nodes[j].shape, g.nodes[j].dtype)
    inputs = [typed(j) for j in n.inputs]
    refs = {k: typed(j) for k, j in n.refs.items()}
    # The node records what the back ends need besides the call's arguments (a scale's tensor shape, init_std).
    args = layer.Args(**{k: v for k, v in n.args.items() if k in layer.Args.model_fields})
    return layer, args, inputs, refs


def _cost(n: Node, g: ModelGraph) -> Dim:
    use = _use(g, n)
    if use is None:
        return 0  # an input, or a pick of a result already computed
    layer, a, inputs, _ = use
    return layer.steps(a, inputs)


def _longer(a: Dim, b: Dim) -> Dim:
    """The larger of two step counts; symbolic ones are compared for long sequences."""
    if is_concrete(a) and is_concrete(b):
        return max(a, b)
    probe = {s: 10**6 for x in (a, b) if isinstance(x, Sym) for s in x.symbols}

    def at(x: Dim) -> int:
        return x.substitute(probe) if isinstance(x, Sym) else x

    return a if at(a) >= at(b) else b


def sequential_steps(g: ModelGraph) -> Dim:
    """The longest path through the graph, each node weighted by `_cost`."""
    done: list[Dim] = [0] * len(g.nodes)
    for n in g.nodes:  # topological order
        start: Dim = 0
        for j in n.reads:
            start = _longer(start, done[j])
        done[n.id] = start + _cost(n, g)
    end: Dim = 0
    for p in g.outputs:
        end = _longer(end, done[p.node])
    return end


def activation_bytes(g: ModelGraph) -> Dim:
    total: Dim = 0
    for n in g.nodes:
        if n.kind in ("input", "member"):
            continue
        total = total + numel(n.shape) * BYTES.get(n.dtype, 4)
        use = _use(g, n)
        if use is not None:
            layer, a, inputs, refs = use
            total = total + layer.kept(a, inputs, TensorType(n.shape, n.dtype), refs) * 4
    return total


def profile(g: ModelGraph) -> Profile:
    return Profile(name=g.name, file=g.file, family=family(g), params=g.params, macs=g.macs,
                   steps=sequential_steps(g), activations=activation_bytes(g))


def _bytes(n: Dim) -> str:
    if not is_concrete(n):
        return f"{n} B"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


HEADER = ("model", "family", "best for", "params", "MACs", "sequential steps", "activations")


def rows(profiles: list[Profile]) -> list[tuple[str, ...]]:
    return [(p.name, p.family, BEST_FOR[p.family], human(p.params), human(p.macs), f"{p.steps:,}"
             if is_concrete(p.steps) else str(p.steps), _bytes(p.activations)) for p in profiles]


def compare_table(profiles: list[Profile], sizes: dict[str, int], fmt: str = "text") -> str:
    body = rows(profiles)
    stated = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items()))
    caption = f"per sample{', at ' + stated if stated else ''}; activations: float32 layer outputs kept for backward"
    if fmt == "markdown":
        out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(out) + f"\n\n{caption}\n"
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
    numeric = {3, 4, 5, 6}

    def line(r) -> str:
        return "  ".join(r[i].rjust(widths[i]) if i in numeric else r[i].ljust(widths[i])
                         for i in range(len(HEADER))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), rule, *(line(r) for r in body), "", caption]) + "\n"
