"""Recurrent layers as the document draws them: through time, and opened into gates.

Stage: called by `compiler.diagram.flow` for a node whose catalogue entry has
a step to open (`Layer.cell`: `rnn`, `lstm`, `gru`) when `--unroll N` or
`--gates` asks for it. Builds `Unroll` and `Cell` items of the diagram model
from that step and the node's arguments and shapes; draws nothing. The gates,
their roles in the document's words and the state equations are the
catalogue's (`dsl/layers/recurrent.py`), not this module's.
"""

from __future__ import annotations

from archlang.dsl.dims import is_concrete
from archlang.dsl.graph import ModelGraph, Node
from archlang.dsl.layers import REGISTRY
from archlang.dsl.layers.facts import RecurrentCell

from .model import Cell, Unroll


def step_of(node: Node) -> RecurrentCell | None:
    """The node's recurrent step, when its layer walks a sequence one step at a time."""
    if node.kind != "layer":
        return None
    return REGISTRY[node.layer].cell(node.args)


def cell(node: Node) -> Cell:
    """The node's cell, opened: gates with their activations, and the state updates."""
    step = step_of(node)
    assert step is not None, node.layer
    return Cell(label=node.label, hidden=int(node.args.get("hidden", 0)), step=step, nodes=(node.id,))


def unroll(g: ModelGraph, node: Node, steps: int, gates: bool) -> Unroll:
    """The first `steps` cells through time, as the document draws x1, x2, x3; when the
    sequence is longer (or symbolic) a gap and its last step follow."""
    step = step_of(node)
    assert step is not None, node.layer
    x = g.nodes[node.inputs[0]]
    length = x.shape[0] if x.shape else 1
    if is_concrete(length) and length <= steps + 1:
        drawn, gap = [str(t) for t in range(1, length + 1)], False
    else:
        drawn, gap = [str(t) for t in range(1, steps + 1)] + [_index(length)], True
    return Unroll(cell=f"{node.layer.upper()} cell", label=node.label, steps=drawn, gap=gap,
                  length=str(length), state=", ".join(step.state),
                  opened=cell(node) if gates else None, nodes=(node.id,))


def _index(length) -> str:
    s = str(length)
    return s if is_concrete(length) or s.isidentifier() else f"({s})"
