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

from dataclasses import dataclass

from dsl.dims import Dim, Sym, is_concrete
from dsl.graph import ModelGraph, Node

from .report import human

RECURRENT = {"rnn", "lstm", "gru"}
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


def family(g: ModelGraph) -> str:
    """The document's family of a model: the most capable kind of layer it uses."""
    layers = {n.layer for n in g.nodes}
    if "attention" in layers:
        return "Transformer"
    if "lstm" in layers:
        return "LSTM"
    if layers & {"rnn", "gru"}:
        return "RNN"
    if layers & {"conv", "conv_transpose"}:
        return "CNN"
    return "MLP"


def _numel(shape) -> Dim:
    out: Dim = 1
    for d in shape:
        out = out * d
    return out


def _cost(n: Node, g: ModelGraph) -> Dim:
    if n.layer in ("input", "pick"):
        return 0  # a pick reads a result already computed
    if n.layer in RECURRENT:
        seq = g.nodes[n.inputs[0]].shape[0]
        return seq * int(n.args.get("layers", 1))
    return 1


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
        for j in (*n.inputs, *n.refs.values()):
            start = _longer(start, done[j])
        done[n.id] = start + _cost(n, g)
    end: Dim = 0
    for p in g.outputs:
        end = _longer(end, done[p.node])
    return end


def activation_bytes(g: ModelGraph) -> Dim:
    total: Dim = 0
    for n in g.nodes:
        if n.layer in ("input", "pick"):
            continue
        total = total + _numel(n.shape) * BYTES.get(n.dtype, 4)
        if n.layer == "attention":
            keys = g.nodes[n.refs["memory"]].shape[0] if "memory" in n.refs else n.shape[0]
            total = total + int(n.args["heads"]) * n.shape[0] * keys * 4
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
