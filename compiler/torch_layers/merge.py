"""The torch half of the merges: `add`, `mul` over any number of operands, and `concat`."""

from __future__ import annotations

import torch
from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim  # batch included

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


@builds("add")
def _add(node: Node, ins: list[Shape]) -> nn.Module:
    return Add()


@builds("mul")
def _mul(node: Node, ins: list[Shape]) -> nn.Module:
    return Mul()


@builds("concat")
def _concat(node: Node, ins: list[Shape]) -> nn.Module:
    return Concat(node.args["dim"] + 1)  # the checker resolved and recorded the axis; skip batch
