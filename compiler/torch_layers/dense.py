"""The torch half of `linear` and `flatten`."""

from __future__ import annotations

from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


@builds("linear")
def _linear(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Linear(ins[0][-1], node.args["out"], bias=node.args["bias"])


@builds("flatten")
def _flatten(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Flatten()
