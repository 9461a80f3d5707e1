"""Recurrent layers as the document draws them: through time, and opened into gates.

Stage: called by `compiler.diagram.flow` for an `rnn`, `lstm` or `gru` node when
`--unroll N` or `--gates` asks for it. Builds `Unroll` and `Cell` items of
the diagram model from the node's arguments and shapes; draws nothing.
The gate roles are the document's words ("Forget gate: what to erase").
"""

from __future__ import annotations

from dsl.dims import is_concrete
from dsl.graph import ModelGraph, Node

from .model import Cell, Gate, Unroll

RECURRENT = ("rnn", "lstm", "gru")

_GATES = {
    "lstm": [Gate("forget gate", "σ", "what to erase", "f"),
             Gate("input gate", "σ", "what to store", "i"),
             Gate("candidate", "tanh", "what could be stored", "g"),
             Gate("output gate", "σ", "what to reveal", "o")],
    "gru": [Gate("reset gate", "σ", "how much of the past to read", "r"),
            Gate("update gate", "σ", "how much of the past to keep", "z"),
            Gate("candidate", "tanh", "the new state on offer", "n")],
}

_EQUATIONS = {
    "lstm": [("cell state", "c_t = f ⊗ c_t−1 ⊕ i ⊗ g"), ("hidden state", "h_t = o ⊗ tanh(c_t)")],
    "gru": [("candidate", "n = tanh(W·x_t ⊕ r ⊗ U·h_t−1)"), ("hidden state", "h_t = (1 − z) ⊗ n ⊕ z ⊗ h_t−1")],
}


def cell(node: Node) -> Cell:
    """The node's cell, opened: gates with their activations, and the state updates."""
    kind = node.layer
    if kind in _GATES:
        gates, equations = list(_GATES[kind]), list(_EQUATIONS[kind])
    else:  # a plain RNN has no gates: one activation mixes input and memory
        act = str(node.args.get("nonlinearity", "tanh"))
        gates = [Gate("cell", act, "mixes the input with the memory", "h")]
        equations = [("hidden state", f"h_t = {act}(W·x_t ⊕ U·h_t−1)")]
    return Cell(kind=kind, label=node.label, hidden=int(node.args.get("hidden", 0)), gates=gates,
                equations=equations, nodes=(node.id,))


def unroll(g: ModelGraph, node: Node, steps: int, gates: bool) -> Unroll:
    """The first `steps` cells through time, as the document draws x1, x2, x3; when the
    sequence is longer (or symbolic) a gap and its last step follow."""
    x = g.nodes[node.inputs[0]]
    length = x.shape[0] if x.shape else 1
    if is_concrete(length) and length <= steps + 1:
        drawn, gap = [str(t) for t in range(1, length + 1)], False
    else:
        drawn, gap = [str(t) for t in range(1, steps + 1)] + [_index(length)], True
    return Unroll(cell=f"{node.layer.upper()} cell", label=node.label, steps=drawn, gap=gap,
                  length=str(length), state="h, c" if node.layer == "lstm" else "h",
                  opened=cell(node) if gates else None, nodes=(node.id,))


def _index(length) -> str:
    s = str(length)
    return s if is_concrete(length) or s.isidentifier() else f"({s})"
