"""The torch half of normalisation and dropout (torch's own classes)."""

from __future__ import annotations

from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


@builds("batchnorm")
def _batchnorm(node: Node, ins: list[Shape]) -> nn.Module:
    cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(ins[0])]
    return cls(ins[0][0], eps=node.args["eps"], momentum=node.args["momentum"])


@builds("layernorm")
def _layernorm(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.LayerNorm(ins[0][-1], eps=node.args["eps"])


@builds("groupnorm")
def _groupnorm(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.GroupNorm(node.args["groups"], ins[0][0], eps=node.args["eps"])


@builds("dropout")
def _dropout(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Dropout(node.args["p"])
