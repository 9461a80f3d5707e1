"""Random inputs that fit a checked model: what `archlang run` feeds it.

Stage: beside lowering. Float inputs are standard normal; integer ids are
drawn below the smallest vocabulary of the embeddings that read them, so a
language model runs on valid token ids rather than on zeros and ones.
"""

from __future__ import annotations

import torch
from archlang.dsl.graph import ModelGraph


def id_limits(graph: ModelGraph) -> dict[int, int]:
    """For each integer input's node, the smallest `vocab` among the embeddings it feeds."""
    limits: dict[int, int] = {}
    ints = {p.node for p in graph.inputs if p.dtype == "int"}
    for n in graph.nodes:
        if n.layer == "embedding" and n.inputs and n.inputs[0] in ints:
            src = n.inputs[0]
            limits[src] = min(limits.get(src, n.args["vocab"]), n.args["vocab"])
    return limits


def random_inputs(graph: ModelGraph, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
    limits = id_limits(graph)
    xs = []
    for p in graph.inputs:
        size = (batch, *p.shape)
        if p.dtype == "int":
            xs.append(torch.randint(0, limits.get(p.node, 2), size, generator=generator))
        else:
            xs.append(torch.randn(size, generator=generator))
    return xs
